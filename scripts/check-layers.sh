#!/usr/bin/env bash
# Checks the rules of the source layout that the compiler cannot see: includes point down
# the layers (tensor <- autograd <- nn <- apps/common <- apps), public headers stay public,
# cmake/public-headers.txt matches the headers on disk, prototypes live in headers, the
# relative links of README.md and docs/*.md resolve, and OpenMP regions start only in
# tensor/. Prints one "ok" line per rule, or
# FILE:LINE, the rule and what is wrong for each violation, and exits 1 on any.
#   bash scripts/check-layers.sh [SOURCE_DIR]     (default: this script's repository)
# Needs only bash, coreutils, find and awk (mawk or gawk).
set -euo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
if [ ! -f "$root/cmake/public-headers.txt" ]; then
  echo "check-layers: $root is not a lamina source tree (no cmake/public-headers.txt)" >&2
  exit 2
fi
cd "$root"

# Every file a rule can look at or a link can point to, relative to the root. Build
# trees and VCS metadata are not sources (they hold copies and links of the headers).
files="$(mktemp)"
trap 'rm -f "$files"' EXIT
find . \( -type d \( -name .git -o -name 'build*' -o -path ./tests/fuzz/corpus \) \) -prune -o -print |
  sed -e 's|^\./||' -e '/^\.$/d' | LC_ALL=C sort >"$files"

LC_ALL=C awk -v FILES="$files" -v PUBLIC="cmake/public-headers.txt" '
# Violations are kept per rule and printed together, rule by rule, at the end.
function fail(where, rule, msg) {
    report[rule] = report[rule] where ": rule (" rule "): " msg "\n"
    bad[rule]++
}

# "a/./b/../c" -> "a/c"; "" when it climbs out of the root.
function normalize(p,    n, parts, out, k, i) {
    n = split(p, parts, "/")
    k = 0
    for (i = 1; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == "..") { if (k == 0) return ""; k--; continue }
        out[++k] = parts[i]
    }
    p = ""
    for (i = 1; i <= k; i++) p = p (i > 1 ? "/" : "") out[i]
    return p
}

function dirname(p) { return sub(/\/[^\/]*$/, "", p) ? p : "." }

# Which part of the layout a path belongs to.
function layer(p) {
    if (p ~ /^tensor\//) return "tensor"
    if (p ~ /^autograd\//) return "autograd"
    if (p ~ /^nn\//) return "nn"
    if (p ~ /^apps\/common\//) return "common"
    if (p ~ /^apps\//) return "apps"
    return "other"
}

# Removes comments and the contents of string and character literals from one line;
# a block comment may run on (incomment carries over to the next line).
function clean(s,    out, i, c, n, q) {
    out = ""; n = length(s); i = 1
    while (i <= n) {
        c = substr(s, i, 1)
        if (incomment) {
            if (c == "*" && substr(s, i + 1, 1) == "/") { incomment = 0; i += 2; out = out " " }
            else i++
            continue
        }
        if (c == "/" && substr(s, i + 1, 1) == "*") { incomment = 1; i += 2; continue }
        if (c == "/" && substr(s, i + 1, 1) == "/") break
        if (c == "\"" || c == "\047") {
            q = c; out = out q; i++
            while (i <= n && substr(s, i, 1) != q) i += (substr(s, i, 1) == "\\") ? 2 : 1
            out = out q; i++
            continue
        }
        out = out c; i++
    }
    return out
}

# Drops every __attribute__((...)) (balanced parentheses) from a declaration.
function strip_attributes(s,    at, i, depth, c) {
    while ((at = index(s, "__attribute__")) > 0) {
        i = at + length("__attribute__"); depth = 0
        while (i <= length(s)) {
            c = substr(s, i, 1)
            if (c == "(") depth++
            else if (c == ")") { depth--; if (depth == 0) { i++; break } }
            else if (depth == 0 && c != " ") break
            i++
        }
        s = substr(s, 1, at - 1) " " substr(s, i)
    }
    return s
}

# The function a file-scope declaration "type name(params)" names, or "" when it is
# something else (a variable, a function pointer, a macro call with no type before it).
function declared_function(s,    head, name, type) {
    s = strip_attributes(s)
    gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s)
    if (s !~ /\)$/ || index(s, "=") || index(s, "(") == 0) return ""
    head = substr(s, 1, index(s, "(") - 1)
    sub(/ $/, "", head)
    if (head !~ /[A-Za-z_][A-Za-z0-9_]*$/) return ""
    name = head; sub(/^.*[^A-Za-z0-9_]/, "", name)
    type = substr(head, 1, length(head) - length(name))
    if (type !~ /[A-Za-z_]/) return "" # a macro call: NAME(args)
    if (type ~ /^(typedef|static|_Static_assert|static_assert)[ *]/ || type ~ /(^| )static /) return ""
    return name
}

# Reads one C file: records its includes, and checks rule (d) on its file-scope
# declarations.
function scan(f,    line, nr, raw, code, i, c, n, stmt, at, depth, name, proto, protoline, protoname, nproto,
              defined, q, p, pp) {
    nproto = 0; nr = 0; incomment = 0; depth = 0; stmt = ""; at = 0; pp = 0
    delete proto; delete protoline; delete protoname; delete defined
    while ((getline line < f) > 0) {
        nr++
        sub(/\r$/, "", line)
        if (pp || (!incomment && line ~ /^[ \t]*#/)) {   # a preprocessor line
            if (!pp && layer(f) != "tensor" && line ~ /^[ \t]*#[ \t]*pragma[ \t]+omp/ &&
                line !~ /^[ \t]*#[ \t]*pragma[ \t]+omp[ \t]+simd/)
                fail(f ":" nr, "f", "threads start only in tensor/: use TENSOR_PARALLEL_FOR or a tensor/ kernel")
            if (!pp && line ~ /^[ \t]*#[ \t]*include[ \t]*[<"]/) {
                raw = line; sub(/^[ \t]*#[ \t]*include[ \t]*/, "", raw)
                q = substr(raw, 1, 1)
                p = substr(raw, 2); sub(q == "<" ? ">.*$" : "\".*$", "", p)
                ninc++; inc_file[ninc] = f; inc_line[ninc] = nr; inc_form[ninc] = q; inc_path[ninc] = p
            }
            pp = (line ~ /\\$/)
            clean(line)                                  # only to follow comments
            continue
        }
        if (f !~ /\.c$/) { clean(line); continue }
        code = clean(line) " "
        n = length(code)
        for (i = 1; i <= n; i++) {
            c = substr(code, i, 1)
            if (c == "{") {
                if (depth == 0 && (name = declared_function(stmt)) != "") defined[name] = 1
                depth++; stmt = ""; at = 0
            } else if (c == "}") {
                if (depth > 0) depth--
                stmt = ""; at = 0
            } else if (depth > 0) {
                continue
            } else if (c == ";") {
                if ((name = declared_function(stmt)) != "" && !(name in proto)) {
                    proto[name] = 1; protoline[name] = at; protoname[++nproto] = name
                }
                stmt = ""; at = 0
            } else {
                if (at == 0 && c != " " && c != "\t") at = nr
                stmt = stmt c
            }
        }
    }
    close(f)
    for (i = 1; i <= nproto; i++) {
        name = protoname[i]
        if (!(name in defined))
            fail(f ":" protoline[name], "d", "hand-written prototype of " name "(), which is defined " \
                 "elsewhere: declare it in the header that goes with its definition (an *_internal.h " \
                 "for library plumbing) and include that")
        else
            fail(f ":" protoline[name], "d", "forward declaration of non-static " name "(): if other " \
                 "files use it, its prototype belongs in a header; if not, make it static")
    }
}

# Where an include points: the path of a file in the tree, or "" for a system header.
# Sets form_lamina when it was written <lamina/...>.
function target(k,    f, p, q, d) {
    f = inc_file[k]; p = inc_path[k]; q = inc_form[k]; form_lamina = 0
    if (q == "<") {
        if (p ~ /^lamina\//) { form_lamina = 1; return substr(p, 8) }
        if (p ~ /^(tensor|autograd|nn|common)\//) return (p ~ /^common\// ? "apps/" p : p)
        return ""
    }
    d = normalize(dirname(f) "/" p)
    if (d != "" && (d in exists)) return d
    if (p in exists) return p
    if (("apps/" p) in exists) return "apps/" p
    return "?" p
}

BEGIN {
    while ((getline line < FILES) > 0) { exists[line] = 1; all[++nall] = line }
    close(FILES)
    n_public = 0
    while ((getline line < PUBLIC) > 0) {
        n_public_lines++
        sub(/\r$/, "", line)
        if (line ~ /^#/ || line == "") continue
        if (line in public) fail(PUBLIC ":" n_public_lines, "c", line " is listed twice")
        else listed[++n_public] = line
        public[line] = n_public_lines
    }
    close(PUBLIC)

    for (k = 1; k <= nall; k++) {
        f = all[k]
        if (f ~ /^(tensor|autograd|nn|apps)\// && f ~ /\.[ch]$/) scan(f)
    }

    # (a) includes point down the layers; (b) public headers include only public headers,
    # and as <lamina/...>, the one form that works both in the tree and installed.
    allowed["tensor"] = " tensor "; allowed_text["tensor"] = "tensor/"
    allowed["autograd"] = " tensor autograd "; allowed_text["autograd"] = "autograd/ and tensor/"
    allowed["nn"] = " tensor autograd nn "; allowed_text["nn"] = "nn/, autograd/ and tensor/"
    for (k = 1; k <= ninc; k++) {
        f = inc_file[k]; from = layer(f); where = f ":" inc_line[k]
        t = target(k)
        if (t == "") continue
        shown = (inc_form[k] == "<") ? "<" inc_path[k] ">" : "\"" inc_path[k] "\""
        if (t ~ /^\?/) {
            fail(where, "a", shown " names no file in the tree (library files include by source-root path, " \
                 "e.g. \"nn/model/model_internal.h\")")
            continue
        }
        to = layer(t)
        if (from == "tensor" || from == "autograd" || from == "nn") {
            if (index(allowed[from], " " to " ") == 0)
                fail(where, "a", from "/ may include only " allowed_text[from] " headers, not " shown \
                     (t == inc_path[k] ? "" : " (" t ")"))
        } else if (from == "common" || from == "apps") {
            if (to == "common") {
                if (form_lamina)
                    fail(where, "a", "apps/common headers are not public: include them as \"common/...\"")
            } else if (t == "nn/nn.h") {
                if (!form_lamina) fail(where, "a", "include the library as <lamina/nn/nn.h>, not " shown)
            } else if (from == "apps" && dirname(f) != "apps" && dirname(t) == dirname(f)) {
                # an app built from a folder (apps/<name>/) shares its own header among its files
            } else {
                fail(where, "a", (from == "common" ? "apps/common" : "apps") " may include only " \
                     "<lamina/nn/nn.h> and apps/common headers (\"common/...\"), not " shown)
            }
        }
        if (form_lamina && !(t in public))
            fail(where, "b", shown " is not a public header (not listed in " PUBLIC ")")
        if (f in public && (to == "tensor" || to == "autograd" || to == "nn")) {
            if (t ~ /_internal\.h$/) fail(where, "b", "public header " f " includes internal header " shown)
            else if (!form_lamina)
                fail(where, "b", "public header " f " must include " t " as <lamina/" t ">, not " shown)
        }
    }

    # (c) every library header is either internal or listed; every listed one is real.
    for (k = 1; k <= nall; k++) {
        f = all[k]
        if (f ~ /^(tensor|autograd|nn)\// && f ~ /\.h$/ && f !~ /_internal\.h$/ && !(f in public))
            fail(f ":1", "c", "header is neither named *_internal.h nor listed in " PUBLIC)
    }
    for (k = 1; k <= n_public; k++) {
        h = listed[k]
        if (!(h in exists)) fail(PUBLIC ":" public[h], "c", "lists " h ", which does not exist")
        else if (h ~ /_internal\.h$/) fail(PUBLIC ":" public[h], "c", "lists " h ", an internal header")
        else if (h !~ /^(tensor|autograd|nn)\/.*\.h$/) fail(PUBLIC ":" public[h], "c", "lists " h \
                 ", which is not a header of tensor/, autograd/ or nn/")
    }

    # (e) relative links in README.md and docs/*.md.
    for (k = 1; k <= nall; k++) {
        f = all[k]
        if (f != "README.md" && f !~ /^docs\/[^\/]*\.md$/) continue
        nr = 0; fence = ""
        while ((getline line < f) > 0) {
            nr++
            sub(/\r$/, "", line)
            if (line ~ /^ *(```|~~~)/) {                 # a fenced code block starts or ends
                mark = line; sub(/^ */, "", mark); mark = substr(mark, 1, 3)
                fence = (fence == "") ? mark : (fence == mark ? "" : fence)
                continue
            }
            if (fence != "") continue
            gsub(/`[^`]*`/, "", line)                    # code spans are not links
            rest = line
            while (match(rest, /\]\([^)]*\)/)) {
                link = substr(rest, RSTART + 2, RLENGTH - 3)
                rest = substr(rest, RSTART + RLENGTH)
                check_link(f, nr, link)
            }
            if (line ~ /^ *\[[^]]+\]: */) {              # a reference definition
                link = line; sub(/^ *\[[^]]+\]: */, "", link)
                check_link(f, nr, link)
            }
        }
        close(f)
    }

    names["a"] = "includes point down the layers (tensor <- autograd <- nn <- apps/common <- apps)"
    names["b"] = "public headers include only public headers, as <lamina/...>"
    names["c"] = "every library header is *_internal.h or listed in " PUBLIC ", and every listed one exists"
    names["d"] = "no hand-written prototypes in .c files"
    names["e"] = "relative links in README.md and docs/*.md resolve"
    names["f"] = "OpenMP regions only in tensor/ (elsewhere TENSOR_PARALLEL_FOR or a kernel)"
    total = 0
    for (r = 1; r <= 6; r++) printf "%s", report[substr("abcdef", r, 1)]
    for (r = 1; r <= 6; r++) {
        rule = substr("abcdef", r, 1)
        if (bad[rule])
            printf "FAIL (%s) %s: %d violation%s\n", rule, names[rule], bad[rule], (bad[rule] > 1 ? "s" : "")
        else printf "ok   (%s) %s\n", rule, names[rule]
        total += bad[rule]
    }
    exit (total > 0)
}

function check_link(f, nr, link,    path) {
    sub(/^ */, "", link); sub(/ +"[^"]*"$/, "", link); sub(/ +$/, "", link)
    sub(/^</, "", link); sub(/>$/, "", link)
    if (link == "" || link ~ /^#/ || link ~ /^[A-Za-z][A-Za-z0-9+.-]*:/) return  # anchor or URL
    path = link; sub(/#.*$/, "", path); sub(/\?.*$/, "", path)
    gsub(/%20/, " ", path)
    path = (path ~ /^\//) ? "" : normalize(dirname(f) "/" path)
    if (path == "" || !(path in exists))
        fail(f ":" nr, "e", "link to " link " points to no file (relative to " dirname(f) "/)")
}
'
