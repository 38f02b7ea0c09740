"""Without the device: the shared decode vectors, the ioctl numbers against
the C header, a missing node, the sysfs parser on a made-up directory."""

import os
import shutil
import subprocess
import tempfile
import unittest

import flakeid
from flakeid import _uapi

HERE = os.path.dirname(os.path.abspath(__file__))
TSV = os.environ.get("FLAKEID_DECODE_TSV",
                     os.path.join(HERE, "..", "..", "testdata", "decode.tsv"))
UAPI = os.path.join(HERE, "..", "..", "..", "uapi")


def vectors():
    """(line number, epoch_ms, layout, id, expected fields or None)."""
    with open(TSV) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            p = line.split("\t")
            want = None if p[3] == "invalid" else tuple(int(x) for x in p[3:])
            yield n, int(p[0]), p[1], int(p[2]), want


class DecodeVectors(unittest.TestCase):
    def test_every_decode_vector(self):
        good = invalid = 0
        for n, epoch, layout, id, want in vectors():
            cfg = flakeid.Config.with_layout(epoch, layout)
            with self.subTest(line=n):
                if want is None:
                    with self.assertRaises(flakeid.InvalidIdError):
                        flakeid.decode_with(cfg, id)
                    invalid += 1
                    continue
                self.assertEqual(len(want), 6)
                d = flakeid.decode_with(cfg, id)
                self.assertEqual(tuple(d), want)
                if d.unix_ms < 253402300800000:  # datetime ends in 9999
                    self.assertEqual(round(d.timestamp.timestamp() * 1000), d.unix_ms)
                    self.assertEqual(d.timestamp.utcoffset().total_seconds(), 0)
                else:
                    with self.assertRaises(flakeid.TimestampOverflowError):
                        d.timestamp
                good += 1
        self.assertGreaterEqual(good, 100)
        self.assertGreaterEqual(invalid, 6)

    def test_bad_layouts_refused(self):
        for l in ("", "41:4:3:5", "41:4:3:5:10:1", "40:4:3:5:0", "0:4:3:5:10",
                  "41:4:3:5:12", "a:4:3:5:10", "-1:4:3:5:10"):
            with self.assertRaises(ValueError, msg=l):
                flakeid.Config.with_layout(0, l)
        self.assertEqual(flakeid.Config(), flakeid.Config.with_layout(1704067200000, "41:4:3:5:10"))
        self.assertEqual(flakeid.Config().layout, "41:4:3:5:10")

    def test_not_an_id(self):
        for bad in (-1, 1 << 64, "5"):
            with self.assertRaises(flakeid.InvalidIdError):
                flakeid.decode_with(flakeid.Config.with_layout(0, "32:0:0:0:32"), bad)
        self.assertTrue(issubclass(flakeid.InvalidIdError, ValueError))


class IoctlNumbers(unittest.TestCase):
    def test_match_the_uapi_header(self):
        cc = os.environ.get("CC", "cc")
        if not os.path.exists(os.path.join(UAPI, "linux", "flakeid.h")) or not shutil.which(cc):
            self.skipTest("needs the checkout's uapi/ and a C compiler")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "n.c")
            with open(src, "w") as f:
                f.write('#include <stdio.h>\n#include <linux/flakeid.h>\n'
                        'int main(void) { printf("%lu %lu %lu %zu %zu %zu\\n",'
                        ' (unsigned long)FLAKEID_IOC_BATCH, (unsigned long)FLAKEID_IOC_DECODE,'
                        ' (unsigned long)FLAKEID_IOC_CONFIG, sizeof(struct flakeid_batch),'
                        ' sizeof(struct flakeid_decode), sizeof(struct flakeid_config)); }\n')
            r = subprocess.run([cc, "-I", UAPI, "-o", os.path.join(d, "n"), src],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, f"{cc} failed: {r.stderr}")
            out = subprocess.run([os.path.join(d, "n")], check=True, capture_output=True, text=True).stdout
        ours = [_uapi.IOC_BATCH, _uapi.IOC_DECODE, _uapi.IOC_CONFIG,
                _uapi.BATCH.size, _uapi.DECODE.size, _uapi.CONFIG.size]
        self.assertEqual([int(x) for x in out.split()], ours)

    def test_struct_sizes(self):
        self.assertEqual((_uapi.BATCH.size, _uapi.DECODE.size, _uapi.CONFIG.size), (32, 56, 88))
        self.assertEqual(_uapi.IOC_BATCH, 0xC020B901)


class NoDevice(unittest.TestCase):
    def test_missing_node(self):
        with self.assertRaises(flakeid.NoDeviceError):
            flakeid.Generator("/nonexistent/flakeid")
        if not os.path.exists(flakeid.DEVICE_PATH):
            with self.assertRaises(flakeid.NoDeviceError):
                flakeid.Generator()
        self.assertTrue(issubclass(flakeid.NoDeviceError, flakeid.FlakeidError))
        self.assertTrue(issubclass(flakeid.FlakeidError, OSError))


BASE = {"ids_issued": "12345\n", "clock_steps_back": "2\n", "borrowed_ms": "7\n",
        "waits": "1\n", "refills": "99\n", "ahead_ms": "-3\n", "generation": "4\n"}


class StatsFromSysfs(unittest.TestCase):
    def fake(self, files):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d, True)
        for k, v in files.items():
            with open(os.path.join(d, k), "w") as f:
                f.write(v)
        return d

    def test_stats(self):
        d = self.fake({**BASE, "until_ms": "0\n", "until_wait_ms": "1000\n",
                       "until_waits": "5\n", "until_refused": "6\n", "vm_forks": "1\n"})
        self.assertEqual(flakeid.stats_from(d),
                         flakeid.Stats(12345, 2, 7, 1, 99, -3, 4, 0, 1000, 5, 6, 1))
        with open(os.path.join(d, "until_ms"), "w") as f:
            f.write("none\n")
        self.assertEqual(flakeid.stats_from(d).until_ms, flakeid.UNTIL_NONE)
        with open(os.path.join(d, "waits"), "w") as f:
            f.write("1x\n")
        with self.assertRaises(flakeid.FlakeidError):
            flakeid.stats_from(d)

    def test_module_without_the_ceiling(self):
        d = self.fake(BASE)
        s = flakeid.stats_from(d)
        self.assertEqual((s.ids_issued, s.until_ms, s.vm_forks), (12345, flakeid.UNTIL_NONE, 0))
        with self.assertRaises(flakeid.NoDeviceError):
            flakeid.stats_from(os.path.join(d, "nope"))


if __name__ == "__main__":
    unittest.main()
