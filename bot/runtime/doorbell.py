"""The wake-up of a background loop: poll on a timer, come early when rung, finish when closed."""

from __future__ import annotations

import asyncio


class Doorbell:
    """Lets a worker loop sleep until it is rung or its poll interval passes, and be asked to stop."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.closing = False

    def ring(self) -> None:
        """Wake the loop now rather than at its next poll."""
        self._event.set()

    def close(self) -> None:
        """Ask the loop to finish what it holds and return."""
        self.closing = True
        self._event.set()

    async def wait(self, timeout: float) -> None:
        """Sleep until rung or `timeout` seconds pass, whichever comes first."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout=timeout)
        except TimeoutError:
            pass
        self._event.clear()
