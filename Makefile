# Learn CNNs — the two commands a newcomer needs: `make demo` and `make test`.
# Both create and fill the project's .venv on first use (Python 3.11).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# defined before any rule names it as a prerequisite (make expands those as it reads them)
PROXY  := $(VENV)/proxy/node_modules/.bin/configurable-http-proxy

.PHONY: demo test test-browser build check clean help sandbox servers browser hub proxy

help:
	@echo "make demo   grade a simulated class end to end (build, autograde, feedback, export)"
	@echo "make test   run grader_tests/"
	@echo "make test-browser  JupyterLab + headless Chromium: every assignment as a student works it"
	@echo "make hub    the course on a JupyterHub on 127.0.0.1:8000 (as root; ROSTER=students.csv)"
	@echo "make build  regenerate release/ and solutions/ from source/"
	@echo "make check  fail if release/ or solutions/ are stale"

# The venv is filled by uv (pinned here), which installs the same packages as pip in about 15 s
# instead of about 60 (a quarter of `make test`'s budget on a clean clone was pip); pip does it
# when uv cannot be had. --compile-bytecode as pip does: the sandbox mounts the venv read-only,
# so a kernel could never write the .pyc files it would otherwise compile at every start.
UV_VERSION := 0.13.9

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	{ $(BIN)/python -m pip install --quiet uv==$(UV_VERSION) && \
	  $(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'; } || \
	  $(BIN)/python -m pip install --quiet -e '.[dev]'
	@# matplotlib's font list for every sandbox, built once per venv now rather than in the first grading run
	$(BIN)/python -c 'from cnnlab.grading.fontcache import font_list; font_list()'
	touch $(STAMP)

# Student code is graded inside bubblewrap; install it when it is missing (Debian/Ubuntu, as root).
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  echo "bubblewrap is missing: installing it with apt-get"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq bubblewrap >/dev/null; fi; }
	@command -v bwrap >/dev/null 2>&1 || { echo "could not install bubblewrap; see README (Sandbox)"; exit 1; }

# The scale tests start a real PostgreSQL server (initdb, pg_ctl) on loopback; install it when missing.
servers:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "PostgreSQL's server is missing: installing it with apt-get"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq postgresql >/dev/null; fi; }

# nbgrader runs `alembic` from PATH when it creates a gradebook: put the venv first.
export PATH := $(abspath $(BIN)):$(PATH)

demo: $(STAMP) sandbox
	$(BIN)/cnnlab demo

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
browser:
	@test -x /usr/bin/chromium || { \
	  echo "Chromium is missing: installing Debian's chromium and chromium-driver with apt-get"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver >/dev/null; fi; }

# Two workers (the machine's cores); each grades whole simulated classes (see conftest.py).
test: $(STAMP) sandbox servers
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# A real JupyterLab on loopback and headless Chromium: every assignment worked through the page,
# nbgrader's Validate button and formgrader; screenshots in browser-screenshots/.
test-browser: $(STAMP) browser sandbox $(PROXY)
	$(BIN)/python -m pytest browser_tests -p no:cacheprovider
	@echo "screenshots: $(abspath browser-screenshots)"

# JupyterHub's proxy, pinned, from npm into the venv (cnnlab/hub/serve.py looks there first).
$(PROXY):
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing (apt-get install nodejs npm)"; exit 1; }
	npm install --silent --no-fund --no-audit --prefix $(VENV)/proxy configurable-http-proxy@5.3.0
proxy: $(PROXY)

# The course on a JupyterHub: accounts from the gradebook's roster, or ROSTER=file.csv (nbgrader's student CSV).
hub: $(STAMP) sandbox $(PROXY)
	$(BIN)/cnnlab hub $(if $(ROSTER),--roster $(ROSTER))

build: $(STAMP)
	$(BIN)/cnnlab build

check: $(STAMP)
	$(BIN)/cnnlab build --check

clean:
	rm -rf demo .pytest_cache
