# Lists a key press's trip through the dashboard's code: every function of tui/src entered
# between trip_start and trip_end, in order, and the files they are in. Run with
#   TRIP=<trip> gdb -q -batch -x tui/examples/key_trip.gdb.py target/debug/examples/key_trip
import os

import gdb

stops = []
gdb.execute("set pagination off")
gdb.execute("set breakpoint pending on")
gdb.execute("break trip_start")
gdb.execute("run " + os.environ["TRIP"] + " >/dev/null")
# A breakpoint at the first line of every function the dashboard's own files define.
listing = gdb.execute("info functions shaozi_tui::", to_string=True)
current = None
lines = set()
for line in listing.splitlines():
    if line.startswith("File "):
        path = line[len("File "):].rstrip(":")
        current = path if "tui/src/" in path else None
    elif current and ":" in line and line.split(":")[0].strip().isdigit():
        lines.add((current, int(line.split(":")[0])))
for path, number in sorted(lines):
    gdb.execute(f"break {path}:{number}", to_string=True)
gdb.execute("break trip_end")
while True:
    gdb.execute("continue", to_string=True)
    frame = gdb.selected_frame()
    name = frame.name() or "?"
    if name.endswith("trip_end"):
        break
    sal = frame.find_sal()
    path = sal.symtab.filename if sal.symtab else ""
    if os.environ.get("TRIP_DEBUG"):
        print("DBG", path, name)
    if "tui/src/" in path:
        stops.append((path[path.index("tui/src/"):], name))
files = []
for path, _ in stops:
    if path not in files:
        files.append(path)
back = sum(1 for i in range(1, len(stops)) if stops[i][0] != stops[i - 1][0] and stops[i][0] in [s[0] for s in stops[:i]])
print("STOPS", len(stops), "FILES", len(files), "RETURNS-TO-A-FILE-LEFT", back)
for path, name in stops:
    print("  ", path, name)
gdb.execute("kill")
