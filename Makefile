# The two commands of the README's quick start; both set themselves up.
.PHONY: demo test
demo:
	scripts/demo
test:
	scripts/test
