#!/usr/bin/env bash
# Runs the whole test suite (real etcd, kubectl, dig… started by the tests themselves on loopback)
# and prints "N passed, N failed" as its last line. Needs root and the packages of scripts/packages.sh.
set -uo pipefail
cd "$(dirname "$0")"
results=artifacts/test-results
rm -rf "$results"
# The end-to-end tests run switchboard as users install it: published as native code (scripts/publish.sh), which keeps
# only what it can see the code reach. A publish that fails counts as a failed project.
published=artifacts/published
rm -rf "$published"
publish_failed=0
if ! bash scripts/publish.sh "$published"; then
  echo "scripts/publish.sh failed: the end-to-end tests run the build instead"
  publish_failed=1
else
  export SWITCHBOARD_EXECUTABLE=$PWD/$published/switchboard
fi
dotnet test Switchboard.slnx -c Release --nologo --logger trx --results-directory "$results" -- RunConfiguration.TestSessionTimeout=1800000
status=$?

# One result file per test project; a project whose file is missing or has no counters (a test host that crashed
# before writing them) counts as a failure, so a lost project can never read as a smaller green run.
projects=$(ls tests/*/*.Tests.csproj | wc -l)
passed=0 failed=0 files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  p=$(grep -o ' passed="[0-9]*"' <<<"$counters" | grep -o '[0-9]\+')
  f=$(grep -o ' failed="[0-9]*"' <<<"$counters" | grep -o '[0-9]\+')
  if [ -z "$p" ] || [ -z "$f" ]; then
    echo "no test counters in $trx: counted as a failure"
    failed=$((failed + 1))
    continue
  fi
  passed=$((passed + p))
  failed=$((failed + f))
done
if [ $files -lt "$projects" ]; then
  echo "$projects test projects but $files result files: each missing one counted as a failure"
  failed=$((failed + projects - files))
fi
failed=$((failed + publish_failed))
# A crashed or timed-out test host fails the run even if no test was counted as failed.
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
