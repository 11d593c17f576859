"""Stand-in for torchsde: importable, every use fails (see ../README.md)."""
from standin import missing

__version__ = "0.0.0+standin"


def __getattr__(attr):
    return missing("torchsde", attr)
