#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target into Fuzz/Corpus/<target>/: small valid files of each format.

Run from anywhere: python3 Fuzz/make-seeds.py. The files are committed; rerun after changing this script.
"""
import gzip, json, os, struct, zlib

here = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(here, "Corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


def safetensors(tensors, metadata=None):
    """tensors: name -> (dtype, shape, raw bytes); laid out in name order, header padded to 8 bytes."""
    header, offset, blob = {}, 0, b""
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blob += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def png(width, height, color_type, channels, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(bytes([f]) + bytes(r) for f, r in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", b"k\x00v") + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


f32 = lambda *v: struct.pack("<%df" % len(v), *v)
f64 = lambda *v: struct.pack("<%dd" % len(v), *v)
write("safetensors", "two-tensors", safetensors({"w": ("F32", [2, 2], f32(1, -2, 3.5, 0)), "b": ("F64", [2], f64(0.25, 8))},
                                                {"format": "pt"}))
write("safetensors", "scalar-and-empty", safetensors({"s": ("F32", [], f32(7)), "e": ("F32", [0, 3], b"")}))
write("safetensors", "no-tensors", safetensors({}))

write("idx", "images", idx([3, 2, 2], range(0, 240, 20)))
write("idx", "labels", idx([4], [0, 9, 3, 1]))
write("idx", "images.gz", gz(idx([2, 3, 2], range(12))))
write("idx", "empty-images", idx([0, 28, 28], []))

record = lambda label, seed: bytes([label]) + bytes((seed * 11 + p) % 251 for p in range(3072))
write("cifar", "one-record", record(7, 1))
write("cifar", "two-records.gz", gz(record(0, 2) + record(9, 3)))

write("image", "gray.png", png(3, 2, 0, 1, [(0, [0, 128, 255]), (2, [1, 1, 1])]))
write("image", "rgb-filters.png", png(2, 3, 2, 3, [(1, [10, 20, 30, 5, 5, 5]), (3, [1, 2, 3, 4, 5, 6]), (4, [9, 8, 7, 6, 5, 4])]))
write("image", "gray-alpha.png", png(1, 1, 4, 2, [(0, [200, 255])]))
write("image", "eight-bit.pgm", b"P5\n# seed\n3 2\n255\n" + bytes([0, 51, 255, 102, 204, 153]))
write("image", "sixteen-bit.pgm", b"P5 2 1 1000\n" + bytes([0x01, 0xF4, 0x03, 0xE8]))

write("gzip", "text.gz", gz(b"the quick brown fox " * 20))
write("gzip", "two-members.gz", gz(b"abc") + gz(b"def"))
write("gzip", "empty.gz", gz(b""))
