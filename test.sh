#!/usr/bin/env bash
# Runs the whole test suite (real etcd, kubectl, dig… started by the tests themselves on loopback)
# and prints "N passed, N failed" as its last line. Needs root and the packages of scripts/packages.sh.
set -uo pipefail
cd "$(dirname "$0")"
results=artifacts/test-results
rm -rf "$results"
dotnet test Switchboard.slnx -c Release --nologo --logger trx --results-directory "$results" -- RunConfiguration.TestSessionTimeout=1800000
status=$?

passed=0 failed=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  passed=$((passed + $(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")))
  failed=$((failed + $(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")))
done
# A crashed or timed-out test host fails the run even if no test was counted as failed.
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
