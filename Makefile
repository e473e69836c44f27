# raum]für[raum — the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
export PORT

.PHONY: install demo test test-fast lint fmt messages bench clean stop

# flock: two make runs side by side (two demos, a demo and the tests) install once, not
# into each other. compat mode puts the checkout on sys.path with a plain .pth, so a
# copy of the tree (a release being upgraded to) imports its own code, not ours.
# The [ldap] extra (directory sign-in) and the [kerberos] extra (Kerberos sign-in to
# Exchange's EWS) need C headers to build: they are added where
# deploy/ensure_build_packages.sh finds them or, as root, installs them.
$(STAMP): pyproject.toml
	flock .install.lock sh -c 'test -x $(PY) || $(PYTHON) -m venv $(VENV); \
		if bash deploy/ensure_build_packages.sh $(PYTHON); then extras=dev,ldap,kerberos; else extras=dev; fi; \
		$(PY) -m pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat \
			-e ".[$$extras]" && touch $(STAMP)'

install: $(STAMP)

## Run the app with demo data on 127.0.0.1:$(PORT); Ctrl-C stops everything.
demo: $(STAMP)
	exec $(PY) manage.py demo --port $(PORT)

## Run every test on the embedded PostgreSQL and Redis.
test: $(STAMP)
	bash tests/ensure_system_packages.sh
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The booking core ([tool.mypy] files); the django-stubs plugin only imports the
	@# settings, so this needs no embedded servers.
	@# pyodata's wheel installs a top-level `tests` package into site-packages; ours comes first.
	PYTHONPATH=$(CURDIR) $(VENV)/bin/mypy
	@# The migration checks need the embedded servers; stop them again unless they were
	@# already running (a demo beside the lint keeps its servers).
	@before=$$($(PY) manage.py embedded status | grep -c running); \
	$(PY) manage.py makemigrations --check --dry-run && $(PY) manage.py check_migrations; rc=$$?; \
	if [ "$$before" = 0 ]; then $(PY) manage.py embedded stop >/dev/null; fi; exit $$rc

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Re-extract and compile the German and English translations.
messages: $(STAMP)
	$(PY) manage.py makemessages -l de --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*'
	$(PY) manage.py compilemessages -l de --ignore .venv

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

## Stop the embedded servers of RFR_DATA_DIR (default ./var).
stop: $(STAMP)
	$(PY) manage.py embedded stop

clean:
	rm -rf $(VENV) var *.egg-info
