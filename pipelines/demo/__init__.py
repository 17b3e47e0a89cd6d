"""The demo street (or city of streets) generator, its truth, and the accuracy checker (`onceonly demo`, `onceonly demo --check`)."""
from pipelines.demo.check import check, format_check
from pipelines.demo.generate import generate

__all__ = ["generate", "check", "format_check"]
