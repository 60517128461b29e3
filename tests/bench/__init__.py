"""Benchmarks (`make bench`, `python -m tests.bench`): they time dsar and print a table.

Not tests: nothing here asserts. Every scenario drives the real service: requests are made
and confirmed through the app's own code, worker processes are started as production starts
them (`python worker.py` with DSAR_ settings), the web app under gunicorn as `dsar run` does,
and each figure is read from what the service recorded (DsarRequest.verified_at ->
json_ready_at -> answered_at -> the answer mail's OutgoingMail.sent_at).

Modules:
    shops      the seeded bulk seeder for shops of 10,000 to 1,000,000 customers, with named
               subject customers, cached under bench/cache/
    services   dsar's database (SQLite, or PostgreSQL in schema dsar_bench), Redis (embedded,
               or a server on its own db number), the sessions and their DSAR_ settings
    workers    worker and gunicorn processes, stopped by pid; worker memory from /proc
    flow       submit, confirm, approve; the timelines the service recorded
    intake     scenario D's keep-alive HTTP load client and in-process profile
    scenarios  A, A', B, C, D, E
    report     medians, spreads, targets, the table and results.json

Backends: SQLite files and an embedded Redis by default. With DSAR_BENCH_DATABASE_URL set
(a PostgreSQL URL) dsar's tables go to the schema dsar_bench of that database, dropped and
created anew for every session; with DSAR_BENCH_REDIS_URL the queues go to that Redis on
database 13 unless the URL names another, emptied (FLUSHDB) before every session and at the
end. The shop is a copy of the cached SQLite file on either backend: it is the system dsar
reads, not dsar, and a cached file makes reruns fast and runs comparable.
"""
