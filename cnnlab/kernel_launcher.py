"""Inside the sandbox: ipykernel's launcher for a grading kernel, without its debugger.

While it starts, ipykernel imports debugpy, the debugger JupyterLab's debug
panel talks to: about 65 ms of every kernel's start here (a fifth of a bare
kernel's), for a debugger no grading run attaches. This launcher starts the
same IPKernelApp with debugpy unimportable (ipykernel then turns its debugger
off, as it does when debugpy is not installed) and makes it importable again
before any cell runs, so a student's own `import debugpy` works as in her
JupyterLab. Started as `python -m cnnlab.kernel_launcher` in place of
`-m ipykernel_launcher` (grading/kernel_manager.py), with the same arguments.
"""
import sys


def main() -> None:
    sys.modules["debugpy"] = None  # ipykernel's `from debugpy.server import api` fails: no debugger
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize()
    if sys.modules.get("debugpy", 0) is None:
        del sys.modules["debugpy"]
    app.start()


if __name__ == "__main__":
    main()
