using Switchboard.ApiServer.Authentication;
using Switchboard.ApiServer.Authorization;

namespace Switchboard.ApiServer.Http;

/// <summary>Who a request is and what it may do, with the APIs that answer those questions for clients (reviews, tokens).</summary>
internal sealed record RequestSecurity(RequestAuthenticator Authenticator, RequestAuthorizer Authorizer, AccessReviews Reviews, TokenRequests Tokens);
