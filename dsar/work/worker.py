"""The RQ worker dsar runs its jobs with, in production and in the tests alike."""

from __future__ import annotations

from rq import SimpleWorker


class Worker(SimpleWorker):
    """RQ's SimpleWorker (each job runs in the worker's own process), able to stop at once.

    RQ listens for commands (stop a job, shut down) on a thread that waits up to 60 s for a
    message. Since redis-py 8.2, stopping that thread waits until it wakes; when the reply to
    RQ's unsubscribe reaches the thread before it is told to stop, it goes back to sleep, and
    a worker asked to stop (or a burst worker with nothing left to do) hangs for up to a
    minute. Here the thread looks up every `LISTEN_TICK` seconds, which bounds that wait and
    costs one idle read a second.
    """

    #: Seconds the command listener waits for a message before it looks whether to stop.
    LISTEN_TICK = 1.0

    def subscribe(self) -> None:
        """Listens on the worker's command channel, as RQ does, with a short tick."""
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        # RQ declares the attribute as None only; it holds the thread while listening.
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=self.LISTEN_TICK, daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )
