# The two commands of the README's quick start (demo, test), both self-setting-up, and the slow
# stack stage that CI runs after them.
#   make demo [ARGS="--otlp http://localhost:4318"]
.PHONY: demo test stack
demo:
	scripts/demo $(ARGS)
test:
	scripts/test
stack:
	scripts/dev-env .venv
	scripts/stack-e2e
