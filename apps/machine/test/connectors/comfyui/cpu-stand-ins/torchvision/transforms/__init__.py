"""Stand-in for torchvision.transforms: importable, every use fails (see ../README.md)."""
from standin import missing




def __getattr__(attr):
    return missing("torchvision.transforms", attr)
