"""Checks a built sdist and wheel hold what users should get, and no more.

    python scripts/check_package.py dist/

The wheel: the library's modules (every one in the source tree) and its
metadata with LICENSE; no tests, benchmarks, examples or docs; no
unconditional TensorFlow requirement. The sdist: the library, LICENSE,
CHANGELOG.md, README.md and the build files. Exits non-zero with the
problems listed.
"""

import glob
import os
import sys
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "tf1_dropblock"


def check(dist):
  problems = []
  wheels = glob.glob(os.path.join(dist, "*.whl"))
  sdists = glob.glob(os.path.join(dist, "*.tar.gz"))
  if len(wheels) != 1 or len(sdists) != 1:
    return ["expected one wheel and one sdist in %s, found %s"
            % (dist, sorted(os.listdir(dist)))]
  modules = sorted(os.path.basename(p) for p in
                   glob.glob(os.path.join(ROOT, PACKAGE, "*.py")))
  with zipfile.ZipFile(wheels[0]) as wheel:
    names = wheel.namelist()
    info = [n for n in names if ".dist-info/" in n]
    library = [n for n in names if n.startswith(PACKAGE + "/")]
    stray = sorted(set(names) - set(info) - set(library))
    if stray:
      problems.append("wheel holds files outside the library: %s" % stray)
    shipped = sorted(os.path.basename(n) for n in library)
    if shipped != modules:
      problems.append("wheel modules %s differ from the source's %s"
                      % (shipped, modules))
    if not any(n.endswith("/LICENSE") for n in info):
      problems.append("wheel has no LICENSE")
    metadata = wheel.read([n for n in info if n.endswith("/METADATA")][0])
    for line in metadata.decode("utf-8").splitlines():
      if (line.startswith("Requires-Dist: tensorflow")
          and "extra ==" not in line):
        problems.append("wheel requires TensorFlow unconditionally: %s"
                        % line)
  with tarfile.open(sdists[0]) as sdist:
    names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
  for required in ["LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml",
                   "setup.py"] + ["%s/%s" % (PACKAGE, m) for m in modules]:
    if required not in names:
      problems.append("sdist lacks %s" % required)
  for prefix in ("tests/", "benchmarks/", "legacy_examples/"):
    if any(n.startswith(prefix) for n in names):
      problems.append("sdist holds %s" % prefix)
  return problems


if __name__ == "__main__":
  found = check(sys.argv[1] if len(sys.argv) > 1 else "dist")
  for problem in found:
    print("check_package: " + problem, file=sys.stderr)
  print("check_package: %s" % ("FAILED" if found else "wheel and sdist OK"))
  sys.exit(1 if found else 0)
