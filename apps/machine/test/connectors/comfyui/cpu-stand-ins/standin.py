"""Shared by the stand-in packages: an attribute that fails, naming the package, when used."""


class Missing:
    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return Missing(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        raise ImportError(f"{self._name} is a stand-in (cpu-stand-ins); install the real package to use it")


def missing(package, attr):
    if attr.startswith("__"):
        raise AttributeError(attr)
    return Missing(f"{package}.{attr}")
