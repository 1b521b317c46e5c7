#!/usr/bin/env bash
# Stands in for a ctest test whose prerequisite CMake did not find at configure time:
#   missing-prerequisite.sh TEST WHAT
# Prints one SKIPPED line (scripts/test.sh repeats it in its summary) and exits 77, which the
# test's SKIP_RETURN_CODE makes ctest count as "Skipped", not passed; under CI=true, where every
# prerequisite must be installed, exits 1.
echo "SKIPPED: $1: $2"
if [[ ${CI,,} == true || $CI == 1 ]]; then
  echo "missing-prerequisite: error: CI=true: $2" >&2
  exit 1
fi
exit 77
