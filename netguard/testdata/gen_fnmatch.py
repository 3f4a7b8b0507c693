# Generates fnmatch_golden.json: (pattern, text, Python's verdict) triples
# that TestGlobMatchesPythonFnmatch replays against the Go glob engine.
# Run with CPython 3.11 (the version Tollgate 1.4.0 was verified on):
#   python3 gen_fnmatch.py > fnmatch_golden.json
import fnmatch, json, random

rng = random.Random(1404)
pat_alpha = "ab-!][*?/é^\\"
txt_alpha = "ab-!]/é[^\\"
fixed = [
    ("[a-c-e]", "-"), ("[a--]", "a"), ("[--a]", "0"), ("[!]]", "a"), ("[]]", "]"),
    ("[!b-a]", "x"), ("[b-a]", "b"), ("[", "["), ("[a", "[a"), ("a[!a-z]b", "a1b"),
    ("*a*b", "xxaxxb"), ("?", "é"), ("[é]", "é"), ("[\\]", "\\"), ("[^a]", "^"),
    ("[a-]", "-"), ("[!a-]", "b"), ("a*", "A"), ("*/*", "a/b"), ("[z-a]", "-"),
    ("https://*.example.com/*", "https://evil.com/.example.com/"),
    ("https://api.github.com/*", "https://api.github.com/repos/x"),
    ("*.internal.*", "http://db.internal.corp/"), ("http://*", "http://insecure.com/data"),
]
cases = [[p, s, fnmatch.fnmatchcase(s, p)] for p, s in fixed]
seen = set()
while len(cases) < 2000:
    p = "".join(rng.choice(pat_alpha) for _ in range(rng.randint(1, 6)))
    if rng.random() < 0.6:
        # Instantiate the pattern so that many cases match.
        s = ""
        for c in p:
            if c == "*":
                s += "".join(rng.choice(txt_alpha) for _ in range(rng.randint(0, 3)))
            elif c == "?":
                s += rng.choice(txt_alpha)
            elif c not in "[]!" or rng.random() < 0.5:
                s += c
    else:
        s = "".join(rng.choice(txt_alpha) for _ in range(rng.randint(0, 5)))
    if (p, s) in seen:
        continue
    seen.add((p, s))
    cases.append([p, s, fnmatch.fnmatchcase(s, p)])
json.dump(cases, __import__("sys").stdout, ensure_ascii=False, indent=0)
