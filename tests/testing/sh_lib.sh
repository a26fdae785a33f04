# sh_lib.sh: what the shell tests share (sourced, from the runfiles:
#   source "${TEST_SRCDIR}/troupe/tests/testing/sh_lib.sh"
# with :sh_lib in the test's data). Expects `failures` to be set to 0.

# Counts a failure and goes on; the test ends with the count.
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# A failure the test cannot go on after.
die() { echo "FAIL: $*"; exit 1; }

# wait_for SECONDS CMD...: until CMD succeeds (checked every 0.1 s); false
# once SECONDS have passed.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
