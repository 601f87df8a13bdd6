#!/usr/bin/env bash
# The apps run with passive waiting unless the user chose a policy: OpenMP reads it as
# the program loads, so an app that has none restarts itself with OMP_WAIT_POLICY set.
# OMP_DISPLAY_ENV=verbose makes each loaded image print the spin count it uses; the
# last one printed is what the run used. Skipped (77) where OpenMP does not print it.
source "$(dirname "$0")/common.bash"

# spin ENV...: the GOMP_SPINCOUNT the last loaded image reported, for the app run with ENV.
spin() {
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=verbose "$@" 2>&1 >/dev/null |
    sed -n "s/^ *GOMP_SPINCOUNT = '\([0-9]*\)'.*/\1/p" | tail -1
}

if [ -z "$(spin "$build_dir/apps/sonnets" --version)" ]; then
  echo "SKIP: this OpenMP runtime does not report GOMP_SPINCOUNT"
  exit 77
fi
for app in sonnets sherlock word2vec bench gradflow; do
  got=$(spin "$build_dir/apps/$app" --version)
  [ "$got" = 0 ] || { echo "FAIL: $app runs with spin count '$got', not passive (0)"; exit 1; }
  echo "ok: $app chose passive waiting (spin count 0)"
done
# The user's choice stands: no restart, their policy.
got=$(spin env OMP_WAIT_POLICY=active "$build_dir/apps/sonnets" --version)
[ "$got" != 0 ] && [ -n "$got" ] || { echo "FAIL: OMP_WAIT_POLICY=active gave spin count '$got'"; exit 1; }
got=$(spin env GOMP_SPINCOUNT=1234 "$build_dir/apps/sonnets" --version)
[ "$got" = 1234 ] || { echo "FAIL: GOMP_SPINCOUNT=1234 gave spin count '$got'"; exit 1; }
echo "ok: OMP_WAIT_POLICY or GOMP_SPINCOUNT set by the user is kept"
# The restart keeps the arguments and the program's name as invoked.
out=$(cd "$build_dir/apps" && env -u OMP_WAIT_POLICY ./sonnets --epochs 0 2>&1 || true)
printf '%s\n' "$out" | grep -q "^sonnets: invalid value '0' for --epochs" ||
  { echo "FAIL: after the restart the error lost its arguments:"; printf '%s\n' "$out"; exit 1; }
echo "ok: the restarted app sees its own arguments"
