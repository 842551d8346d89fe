# The targets are thin: CI calls `make test`; the README's two commands are `make demo` and `make test`.
CONFIGURATION ?= Release

.PHONY: test demo build postgres clean

## Installs PostgreSQL's server programs if the machine lacks them (for the embedded server).
postgres:
	@scripts/ensure-postgres.sh

build:
	dotnet build TestKit.sln -c $(CONFIGURATION) -nologo -clp:NoSummary

## The kit's own tests and the demo suite, on the embedded PostgreSQL unless TESTKIT_CONNECTION_STRING is set.
test: postgres build
	@scripts/run-tests.sh $(CONFIGURATION) TestKit.Tests demo/Shop.Tests

## The kit's main job: a small suite that uses TestKit, on the embedded PostgreSQL.
demo: postgres
	dotnet build demo/Shop.Tests -c $(CONFIGURATION) -nologo -clp:NoSummary
	@scripts/run-tests.sh $(CONFIGURATION) demo/Shop.Tests -- --output Detailed

clean:
	rm -rf artifacts */bin */obj demo/*/bin demo/*/obj
