/*
 * metrics_stubs.c - test doubles for the two session.c calls metrics.c's
 * exposition makes, so test_metrics_unit links without the session layer
 * and the engine.  The unit test never writes an exposition (the
 * integration tests do, against the real host).
 */
#include "session.h"

size_t
tale_sessions_count(const tale_sessions_t *ss)
{
    (void)ss;
    return 0;
}

size_t
tale_sessions_held_bytes(const tale_sessions_t *ss)
{
    (void)ss;
    return 0;
}
