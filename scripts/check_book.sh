#!/usr/bin/env bash
# Checks the mdBook in book/: run by .ci/run, and by hand before a commit that
# touches the book or the code it includes.
#
#   1. mdbook is the pinned version (installed with cargo if not);
#   2. every {{#include path}} / {{#include path:anchor}} in book/src resolves:
#      the file exists and, for an anchor, has both ANCHOR and ANCHOR_END lines
#      (mdbook itself silently includes nothing for a missing anchor);
#   3. `mdbook build book` prints no warning and no error (mdbook only logs a
#      missing include file and still exits 0, so its output is read);
#   4. every chapter with Rust snippets of its own is doctested through
#      src/book_doctests.rs, and those doctests pass.
#
# About `mdbook test`: it is not run. It calls rustdoc with `-L` only, never
# `--extern`, so in edition 2024 a snippet's `use queuelab::...` does not
# resolve unless every snippet starts with a hidden `extern crate queuelab;`,
# and `-L target/debug/deps` then fails with "multiple candidates" as soon as
# that directory holds more than one build of a crate (check/clippy metadata,
# two proptest versions, ...). `cargo test --doc` runs the same snippets with
# the right `--extern` flags and the dev-dependencies, so step 4 uses it.
set -euo pipefail
cd "$(dirname "$0")/.."

MDBOOK_VERSION=0.5.4
export PATH="$HOME/.cargo/bin:$PATH"

step() { echo "--- check_book: $*"; }
fail() {
    echo "check_book: FAILED: $*" >&2
    exit 1
}

# 1. The pinned mdbook.
step "mdbook $MDBOOK_VERSION"
if [[ $(mdbook --version 2>/dev/null || true) != "mdbook v$MDBOOK_VERSION" ]]; then
    cargo install --locked mdbook --version "$MDBOOK_VERSION"
fi
[[ $(mdbook --version) == "mdbook v$MDBOOK_VERSION" ]] ||
    fail "mdbook --version says '$(mdbook --version)', expected mdbook v$MDBOOK_VERSION"

# 2. Includes. Each directive is {{#include PATH}}, {{#include PATH:ANCHOR}} or
# {{#include PATH:FROM:TO}} (line numbers), with PATH relative to the chapter.
step "includes"
problems=0
checked=0
while IFS= read -r hit; do
    chapter=${hit%%:*}
    rest=${hit#*:}
    line=${rest%%:*}
    directive=${rest#*:}
    spec=${directive#\{\{#include }
    spec=${spec%\}\}}
    path=${spec%%:*}
    selector=
    [[ $spec == *:* ]] && selector=${spec#*:}
    file=$(dirname "$chapter")/$path
    checked=$((checked + 1))
    if [[ ! -f $file ]]; then
        echo "  $chapter:$line: $directive: no file $file" >&2
        problems=$((problems + 1))
    elif [[ -n $selector && ! $selector =~ ^[0-9]*(:[0-9]*)?$ ]]; then
        if ! grep -q "ANCHOR: $selector\$" "$file" || ! grep -q "ANCHOR_END: $selector\$" "$file"; then
            echo "  $chapter:$line: $directive: no 'ANCHOR: $selector' / 'ANCHOR_END: $selector' pair in $file" >&2
            problems=$((problems + 1))
        fi
    fi
done < <(grep -rnoE '\\?\{\{#include [^}]+\}\}' book/src --include='*.md' | grep -vE ':[0-9]+:\\')
[[ $problems -eq 0 ]] || fail "$problems of $checked includes do not resolve (listed above)"
echo "  $checked includes resolve"

# 3. Build, and read what mdbook says.
step "mdbook build book"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! mdbook build book >"$log" 2>&1; then
    cat "$log" >&2
    fail "mdbook build book exited with an error"
fi
if grep -E '\b(WARN|ERROR)\b' "$log" >&2; then
    fail "mdbook build book printed the warnings or errors above"
fi

# 4. Book snippets: registered, then doctested.
step "book snippets"
unregistered=0
for chapter in book/src/*.md; do
    # A ```rust block that is not ```rust,ignore is a snippet to test.
    if grep -qE '^```rust(,(should_panic|no_run|compile_fail|edition[0-9]+))*$' "$chapter" &&
        ! grep -qF "include_str!(\"../$chapter\")" src/book_doctests.rs; then
        echo "  $chapter has Rust snippets but is not in src/book_doctests.rs" >&2
        unregistered=$((unregistered + 1))
    fi
done
[[ $unregistered -eq 0 ]] || fail "add the chapters above to src/book_doctests.rs"
cargo test --quiet --doc book_doctests

echo "check_book: OK"
