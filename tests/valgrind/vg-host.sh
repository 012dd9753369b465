#!/bin/sh
# Run tale-host ($TALE_REAL_HOST) under valgrind memcheck; the test starts
# this in place of the host (TALE_HOST).  exec, so the test's SIGTERM reaches
# the host itself.  Any memcheck error or definite leak makes the exit code 99.
exec "${VALGRIND:-valgrind}" --tool=memcheck --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=40 \
    --suppressions="$(dirname "$0")/h2o.supp" --log-file="$TALE_VALGRIND_LOG" \
    "$TALE_REAL_HOST" "$@"
