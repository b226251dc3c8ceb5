using System.Globalization;
using k8s.Models;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Images;

/// <summary>
/// There are no container images here: an image names a program on the host. This maps an image reference, with the
/// container's command and args (as Kubernetes overrides an image's entrypoint and cmd), to the argv that runs.
/// </summary>
internal sealed class ImageCatalog(IReadOnlyList<string> selfCommand)
{
    /// <summary>
    /// The echo image's program, <c>switchboard-echo</c>, beside this executable (or assembly): native code in a
    /// published switchboard (scripts/publish.sh compiles it ahead of time), an apphost that runs its assembly in a
    /// build's output.
    /// </summary>
    private readonly string _echoProgram = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(selfCommand[^1])) ?? "/", "switchboard-echo");

    public const string Provided =
        "switchboard/echo, registry.k8s.io/e2e-test-images/agnhost (netexec), nginx, busybox, alpine, curlimages/curl, tutum/curl, debian, ubuntu, bitnami/kubectl, registry.k8s.io/kubectl";

    /// <summary>Images whose entrypoint is one program given the container's args: kubectl's images run the host's kubectl.</summary>
    private static readonly Dictionary<string, string> EntrypointImages = new(StringComparer.Ordinal)
    {
        ["bitnami/kubectl"] = "kubectl",
        ["registry.k8s.io/kubectl"] = "kubectl",
    };

    /// <summary>Images whose default command is their shell: busybox's and alpine's sh; bash for the Debian-based ones (tutum/curl is Ubuntu's with curl), as their images' CMD.</summary>
    private static readonly Dictionary<string, string> ShellImages = new(StringComparer.Ordinal)
    {
        ["busybox"] = "sh",
        ["alpine"] = "sh",
        ["debian"] = "bash",
        ["ubuntu"] = "bash",
        ["tutum/curl"] = "bash",
    };

    /// <summary>The repository part of a reference: registry (docker.io and its library/ default) and tag or digest removed.</summary>
    public static string Repository(string image)
    {
        string name = image;
        int at = name.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            name = name[..at];
        }

        int colon = name.LastIndexOf(':');
        if (colon > name.LastIndexOf('/'))
        {
            name = name[..colon];
        }

        foreach (string registry in new[] { "docker.io/", "index.docker.io/", "registry-1.docker.io/" })
        {
            if (name.StartsWith(registry, StringComparison.Ordinal))
            {
                name = name[registry.Length..];
            }
        }

        return name.StartsWith("library/", StringComparison.Ordinal) ? name["library/".Length..] : name;
    }

    /// <summary>
    /// Resolves <paramref name="container"/> with its <paramref name="command"/> and <paramref name="args"/> (already
    /// expanded against its environment); <paramref name="podRoot"/> is the pod's root filesystem as the agent reaches it
    /// (<c>/proc/&lt;holder&gt;/root</c>), where per-pod files a program needs go (nginx's config and page).
    /// </summary>
    public ImageResolution Resolve(V1Pod pod, V1Container container, IList<string> command, IList<string> args, string podRoot)
    {
        string image = container.Image ?? "";
        string repository = Repository(image);
        List<string> argv;
        if (repository is "switchboard/echo" || (repository == "registry.k8s.io/e2e-test-images/agnhost" && args.FirstOrDefault() == "netexec"))
        {
            argv = command.Count > 0 ? [.. command, .. args] : Echo(container, repository == "switchboard/echo" ? args : args.Skip(1));
        }
        else if (repository == "nginx")
        {
            argv = command.Count > 0 ? [.. command, .. args] : Nginx(pod, container, podRoot);
        }
        else if (repository == "curlimages/curl")
        {
            // Its entrypoint runs the first argument when that is a command, else curl with the arguments.
            argv = command.Count > 0 ? [.. command, .. args]
                : args.Count > 0 && !args[0].StartsWith('-') && HostTools.Find(args[0]) is not null ? [.. args]
                : ["curl", .. args];
        }
        else if (EntrypointImages.TryGetValue(repository, out string? program))
        {
            argv = command.Count > 0 ? [.. command, .. args] : [program, .. args];
        }
        else if (ShellImages.TryGetValue(repository, out string? shell))
        {
            argv = command.Count > 0 || args.Count > 0 ? [.. command, .. args] : [shell];
            if (repository == "busybox" && HostTools.Find(argv[0]) is null && HostTools.Find("busybox") is not null)
            {
                // An applet the host lacks as a program of its own (wget, nc…) runs from Debian's busybox.
                argv.Insert(0, "busybox");
            }
        }
        else
        {
            return ImageResolution.Failure("ErrImagePull",
                $"Failed to pull image \"{image}\": this node runs no container images; the images it provides are: {Provided}");
        }

        return HostTools.Find(argv[0]) is null
            ? ImageResolution.Failure("CreateContainerError", HostTools.Missing(argv[0]) + $" (for image \"{image}\")")
            : ImageResolution.Success(argv);
    }

    private List<string> Echo(V1Container container, IEnumerable<string> netexecArgs)
    {
        // agnhost netexec's own flags win; else the first declared port, else 8080.
        var flags = netexecArgs.ToList();
        string? port = container.Ports?.FirstOrDefault()?.ContainerPort.ToString(CultureInfo.InvariantCulture);
        if (!flags.Any(f => f.StartsWith("--http-port", StringComparison.Ordinal)))
        {
            flags.Add($"--http-port={port ?? "8080"}");
        }

        return [_echoProgram, .. flags];
    }

    /// <summary>Debian's nginx with the image's layout: the page in /usr/share/nginx/html (readable by nginx's workers), a config of the container's own.</summary>
    private static List<string> Nginx(V1Pod pod, V1Container container, string podRoot)
    {
        int port = container.Ports?.FirstOrDefault()?.ContainerPort ?? 80;
        const string html = "/usr/share/nginx/html";
        Directory.CreateDirectory(podRoot + html);
        File.WriteAllText(podRoot + html + "/index.html", $"""
            <!DOCTYPE html>
            <html>
            <head><title>Welcome to nginx!</title></head>
            <body>
            <h1>Welcome to nginx!</h1>
            <p>Served by pod {pod.Metadata.Name} in namespace {pod.Metadata.NamespaceProperty}.</p>
            </body>
            </html>

            """);
        string config = $"/etc/nginx/switchboard-{container.Name}.conf";
        Directory.CreateDirectory(podRoot + "/etc/nginx");
        File.WriteAllText(podRoot + config, $$"""
            worker_processes 1;
            pid /run/nginx-{{container.Name}}.pid;
            error_log stderr notice;
            events { worker_connections 1024; }
            http {
                include /etc/nginx/mime.types;
                access_log /dev/stdout;
                server {
                    listen {{port}};
                    server_name _;
                    root {{html}};
                    index index.html;
                }
            }

            """);
        return ["nginx", "-c", config, "-g", "daemon off;"];
    }
}

/// <summary>An image resolved to an argv, or the waiting reason and message of a failure.</summary>
internal sealed record ImageResolution(IReadOnlyList<string>? Argv, string? Reason, string? Message)
{
    public static ImageResolution Success(IReadOnlyList<string> argv) => new(argv, null, null);

    public static ImageResolution Failure(string reason, string message) => new(null, reason, message);
}
