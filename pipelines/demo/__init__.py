"""The demo street (or city of streets) generator, its truth, and the accuracy checker (`onceonly demo`, `onceonly demo --check`)."""
from pipelines.demo.check import check, format_check, store_frames as check_frames
from pipelines.demo.generate import generate

__all__ = ["generate", "check", "check_frames", "format_check"]
