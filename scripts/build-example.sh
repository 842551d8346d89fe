#!/usr/bin/env bash
# Builds the example consumer (example/) against the TestKit packages in the local feed, as a user's solution
# would reference it. Run after `make pack`, which (re)writes artifacts/packages/TestKit.<version>.nupkg and TestKit.TUnit.<version>.nupkg.
#
# The package keeps the one version that TestKit.csproj names from build to build, and NuGet never looks again
# at a version it has already extracted. So the example restores into a packages folder of its own
# (artifacts/example-packages, never the machine's global one), and TestKit's copies there are deleted before each
# restore: every run extracts the package that was just packed.
# Usage: scripts/build-example.sh CONFIGURATION
set -euo pipefail

configuration=$1
root=$(cd "$(dirname "$0")/.." && pwd)
packages="$root/artifacts/example-packages"

rm -rf "$packages/testkit" "$packages/testkit.tunit"
dotnet restore "$root/example/Library.slnx" --packages "$packages" --force -nologo
dotnet build "$root/example/Library.slnx" -c "$configuration" --no-restore -nologo -clp:NoSummary
