"""The runtime settings robotrain gives itself, for a peer process run "with the same settings"
(bench/peers/policy_step.py, decode_frames.py)."""

import ctypes


def keep_freed_memory():
    # The same mallopt calls as robotrain's util::keep_freed_memory (glibc's M_* constants).
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold, m_mmap_max = -1, -3, -4
    libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024)
    libc.mallopt(m_mmap_max, 0)
    libc.mallopt(m_trim_threshold, -1)
