"""Fixed code readers (smart cameras decoding on the device): results as text over TCP or serial."""

from drivers.reader.base import CodeReader, ReadResult, UnreadableMessage
from drivers.reader.factory import open_reader

__all__ = ["CodeReader", "ReadResult", "UnreadableMessage", "open_reader"]
