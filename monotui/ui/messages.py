"""Messages the polling workers post to the rollouts screen."""

from __future__ import annotations

from textual.message import Message

from monotui.engine.polling import SourceUpdate


class SourceUpdated(Message):
    """A source was polled (successfully or not); the state already holds the result."""

    def __init__(self, update: SourceUpdate) -> None:
        super().__init__()
        self.update = update

    def can_replace(self, message: Message) -> bool:
        # the state already holds the newest data, so a queued older update for the same source adds nothing
        return isinstance(message, SourceUpdated) and message.update.source == self.update.source
