"""The catalogue of simulated answers, one module per assignment (see README.md here).

It ships in the package because `make demo` simulates its class from it; it
holds correct answers, so the sandbox hides this folder from student code
(sandbox.hidden_package_folders), and nothing imports it as a package:
`cnnlab.simulate.load_catalogue` reads one assignment's module by its path.
"""
