"""Against a loaded module; skipped when /dev/flakeid is absent (the host).
The guest runs them for real."""

import os
import random
import threading
import time
import unittest

import flakeid

from test_host import vectors

HAVE_DEVICE = os.path.exists(flakeid.DEVICE_PATH)


@unittest.skipUnless(HAVE_DEVICE, "no /dev/flakeid")
class Device(unittest.TestCase):
    def setUp(self):
        self.gen = flakeid.Generator()
        self.addCleanup(self.gen.close)

    def same(self, cfg, id):
        try:
            k = self.gen.decode(id)
        except flakeid.InvalidIdError:
            with self.assertRaises(flakeid.InvalidIdError, msg=id):
                flakeid.decode_with(cfg, id)
            return
        self.assertEqual(k, flakeid.decode_with(cfg, id), id)

    def total(self, cfg):
        return sum(int(b) for b in cfg.layout.split(":"))

    def test_decode_agrees_with_the_kernel(self):
        cfg = self.gen.config()
        for id in self.gen.generate_batch(1000):
            self.same(cfg, id)
            d = self.gen.decode(id)
            self.assertEqual((d.region_id, d.app_id, d.machine_id),
                             (cfg.region_id, cfg.app_id, cfg.machine_id))
        t = self.total(cfg)
        rnd = random.Random(7)
        edge = [0, 1, (1 << 64) - 1, 1 << 63, (1 << 63) - 1, (1 << t) - 1]
        if t < 64:
            edge += [1 << t, (1 << t) + 1]
        edge += [rnd.getrandbits(64) for _ in range(1000)]
        edge += [rnd.getrandbits(t) for _ in range(1000)]
        for id in edge:
            self.same(cfg, id)
        rows = 0
        for _, epoch, layout, id, _want in vectors():
            if epoch == cfg.epoch_ms and layout == cfg.layout:
                self.same(cfg, id)
                rows += 1
        # The guest reloads the module with each epoch and layout of the
        # file and names them: then that group's rows must all be checked.
        if "FLAKEID_TEST_LAYOUT" in os.environ:
            self.assertEqual(os.environ["FLAKEID_TEST_LAYOUT"], cfg.layout)
            self.assertGreater(rows, 0)

    @unittest.skipUnless(os.environ.get("FLAKEID_TEST_OVERFLOW"),
                         "FLAKEID_TEST_OVERFLOW not set (the guest sets it after using up the timestamp)")
    def test_used_up_timestamp_is_overflow(self):
        with self.assertRaises(flakeid.TimestampOverflowError):
            self.gen.generate()
        with self.assertRaises(flakeid.TimestampOverflowError):
            self.gen.generate_batch(5)

    def test_ten_thousand_distinct_increasing(self):
        ids = [self.gen.generate() for _ in range(10000)]
        self.assertEqual(len(set(ids)), 10000)
        self.assertTrue(all(a < b for a, b in zip(ids, ids[1:])))

    def test_hundred_threads_thousand_each_distinct(self):
        out = [None] * 100
        errors = []

        def work(i):
            try:
                out[i] = [self.gen.generate() for _ in range(1000)]
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        for ids in out:
            self.assertTrue(all(a < b for a, b in zip(ids, ids[1:])))
        self.assertEqual(len({i for ids in out for i in ids}), 100000)

    def test_batch_strictly_increasing(self):
        self.assertEqual(self.gen.generate_batch(0), [])
        first = self.gen.generate()
        ids = self.gen.generate_batch(50000)
        self.assertEqual(len(ids), 50000)
        self.assertGreater(ids[0], first)
        self.assertTrue(all(a < b for a, b in zip(ids, ids[1:])))
        self.assertGreater(self.gen.generate(), ids[-1])

    def test_iterator(self):
        it = iter(self.gen)
        ids = [next(it) for _ in range(1000)]
        self.assertTrue(all(a < b for a, b in zip(ids, ids[1:])))

    def test_bad_id_is_invalid(self):
        cfg = self.gen.config()
        t = self.total(cfg)
        if t == 64:
            self.skipTest("a 64-bit layout has no invalid ID")
        for bad in ((1 << 64) - 1, 1 << t):
            with self.assertRaises(flakeid.InvalidIdError):
                self.gen.decode(bad)

    def test_config_and_stats_agree_with_sysfs(self):
        def sysfs(n):
            with open(os.path.join(flakeid.SYSFS_DIR, n)) as f:
                return f.read().strip()
        cfg = self.gen.config()
        self.assertEqual(sysfs("layout"), cfg.layout)
        self.assertEqual(int(sysfs("epoch_ms")), cfg.epoch_ms)
        self.assertEqual(int(sysfs("machine_id")), cfg.machine_id)
        before = self.gen.stats()
        self.gen.generate_batch(100)
        after = self.gen.stats()
        self.assertGreaterEqual(after.ids_issued, before.ids_issued + 100)
        self.assertEqual(after.generation, cfg.generation)

    def test_close_and_context_manager(self):
        with flakeid.Generator() as g:
            g.generate()
        self.assertTrue(g.closed)
        with self.assertRaises(ValueError):
            g.generate()
        g.close()

    def test_close_while_threads_generate(self):
        g = flakeid.Generator()
        got, bad = [], []

        def work():
            try:
                while True:
                    got.append(g.generate())
            except ValueError:  # closed: the only way out
                pass
            except Exception as e:
                bad.append(e)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        while len(got) < 1000 and any(t.is_alive() for t in threads):
            time.sleep(0.001)
        g.close()
        for t in threads:
            t.join()
        self.assertEqual(bad, [])
        self.assertEqual(len(set(got)), len(got))


@unittest.skipUnless(HAVE_DEVICE, "no /dev/flakeid")
class Fence(unittest.TestCase):
    """Fences the device (until_ms 0) and puts it back: unittest runs the
    tests of one process one at a time, so nothing runs beside it."""

    UNTIL = os.path.join(flakeid.SYSFS_DIR, "until_ms")

    def test_fenced_device_refuses(self):
        if not os.path.exists(self.UNTIL):
            self.skipTest("no until_ms")
        with open(self.UNTIL) as f:
            old = f.read()
        gen = flakeid.Generator()
        self.addCleanup(gen.close)
        before = gen.generate()
        try:
            with open(self.UNTIL, "w") as f:
                f.write("0\n")
        except PermissionError:
            self.skipTest("cannot fence: not root")

        def restore():
            with open(self.UNTIL, "w") as f:
                f.write(old)
        self.addCleanup(restore)
        self.assertTrue(gen.config().fenced)
        with self.assertRaises(flakeid.FencedError):
            gen.generate()
        with self.assertRaises(flakeid.FencedError):
            gen.generate_batch(10)
        self.assertEqual(gen.stats().until_ms, flakeid.UNTIL_FENCED)
        restore()
        with open(self.UNTIL) as f:
            self.assertEqual(f.read(), old)
        self.assertGreater(gen.generate(), before)


if __name__ == "__main__":
    unittest.main()
