"""The benchmark catalog: a real catalog scaled up to N rows, written once to bench/data/ and reused.

Every row repeats a real title (PriceRunner by default) with a varied id, merchant and price and, after
the first pass over the source, small title variations (colour, size, pack, edition, a dropped word).
The same source, N and BENCH_SEED give the same file byte for byte. With no real catalog (a fresh
clone), the source is the built-in demo generator, workspace.demo.demo_products.
"""

from __future__ import annotations

import csv
import math
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

from bench.common import DATA_DIR, ROOT, env_int, log

PRICERUNNER = ROOT.parent / "shared" / "data" / "pricerunner" / "pricerunner_aggregate.csv"
HEADER = ["external_id", "title", "brand", "price", "currency", "merchant", "category"]
DEMO_POOL = 30_000

COLOURS = ["black", "white", "silver", "grey", "blue", "red", "graphite", "stainless steel", "gold", "green"]
SIZES = ["32gb", "64gb", "128gb", "256gb", "1tb", "45cm", "60cm", "7kg", "9kg", '55"', '65"', "20l", "25l", "900w"]
EXTRAS = ["(2019)", "- uk version", "bundle", "refurbished", "2 year warranty", "new", "eu plug", "2-pack", "a+++"]
CURRENCIES = ["GBP"] * 6 + ["EUR"] * 3 + ["SEK"]
_NUMBER = re.compile(r"^\d+(gb|tb|cm|kg|l|w)$")


@dataclass(frozen=True, slots=True)
class Base:
    title: str
    merchant: str
    category: str
    price: float
    brand: str = ""


def source_path() -> Path | None:
    """BENCH_DATA if set, else the PriceRunner catalog when present, else None (the demo generator)."""
    chosen = os.environ.get("BENCH_DATA", "").strip()
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"BENCH_DATA={chosen} is not a file")
        return path
    return PRICERUNNER if PRICERUNNER.is_file() else None


def _column(columns: list[str], *names: str) -> int | None:
    for name in names:
        if name in columns:
            return columns.index(name)
    return None


def _read_csv(path: Path, rng: random.Random) -> list[Base]:
    """Titles, merchants and categories of a CSV catalog (PriceRunner's header, or title/merchant/category)."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        columns = [re.sub(r"[\s_-]+", "_", name.strip().lower()) for name in next(reader)]
        title_at = _column(columns, "product_title", "title", "name", "offer_title")
        if title_at is None:
            raise ValueError(f"{path}: no title column among {columns}")
        merchant_at = _column(columns, "merchant_id", "merchant", "shop", "seller")
        category_at = _column(columns, "category_label", "category", "label")
        cluster_at = _column(columns, "cluster_id", "cluster")
        bases = []
        for row in reader:
            if len(row) <= title_at or not row[title_at].strip():
                continue
            cluster = row[cluster_at] if cluster_at is not None and cluster_at < len(row) else row[title_at]
            # One price level per cluster (offers of the same product), so a cluster's offers look alike.
            level = random.Random(f"price:{cluster}").uniform(math.log(15), math.log(2500))
            bases.append(
                Base(
                    title=" ".join(row[title_at].split()),
                    merchant=row[merchant_at].strip() if merchant_at is not None and merchant_at < len(row) else "",
                    category=row[category_at].strip() if category_at is not None and category_at < len(row) else "",
                    price=math.exp(level),
                )
            )
    rng.shuffle(bases)
    return bases


def _demo_bases() -> list[Base]:
    from workspace.demo import demo_products  # standard library only: no Django setup needed

    return [
        Base(
            title=str(product["title"]),
            merchant=str(product["attributes"].get("merchant", "")),
            category=str(product["category"]),
            price=float(product["price"] or 20),
            brand=str(product["brand"]),
        )
        for product in demo_products(DEMO_POOL, seed=7)
    ]


def _vary(title: str, rng: random.Random) -> str:
    """One or two small edits of a title: what another listing of a similar product would say."""
    words = title.split()
    for _ in range(rng.choice((1, 1, 2))):
        edit = rng.randrange(6)
        sized = [i for i, word in enumerate(words) if _NUMBER.match(word.lower())]
        if edit == 0:
            words.append(rng.choice(COLOURS))
        elif edit == 1 and sized:
            words[rng.choice(sized)] = rng.choice(SIZES)
        elif edit in (1, 2):
            words.append(rng.choice(SIZES))
        elif edit == 3:
            words.append(rng.choice(EXTRAS))
        elif edit == 4 and len(words) > 4:
            del words[rng.randrange(2, len(words))]
        else:
            words.insert(min(len(words), rng.randrange(1, 4)), rng.choice(COLOURS + SIZES))
    return " ".join(words)


def _external_id(position: int, cycle: int, rng: random.Random) -> str:
    # Four shapes of id, each unique for (position, cycle) and disjoint from the others.
    shape = rng.randrange(4)
    if shape == 0:
        return f"PR{position:06d}-{cycle:03d}"
    if shape == 1:
        return f"SKU-{cycle:03d}-{position:06d}"
    if shape == 2:
        return f"{cycle:04d}{position:07d}"
    return f"m{position:x}.{cycle}"


def _rows(bases: list[Base], count: int, rng: random.Random):
    for number in range(count):
        cycle, position = divmod(number, len(bases))
        base = bases[position]
        title = base.title if cycle == 0 else _vary(base.title, rng)
        merchant_id = base.merchant or str(position % 300)
        merchant = f"merchant-{merchant_id}" if cycle == 0 else f"merchant-{(hash_int(merchant_id) + cycle * 37) % 600}"
        price = base.price * rng.uniform(0.85, 1.15)
        brand = base.brand or (title.split()[0].capitalize() if title else "")
        yield [_external_id(position, cycle, rng), title, brand, f"{price:.2f}", rng.choice(CURRENCIES), merchant,
               base.category]


def hash_int(text: str) -> int:
    """A stable small integer from text (str hash() is salted per process)."""
    return int(text) if text.isdigit() else sum(ord(char) * (i + 1) for i, char in enumerate(text))


def catalog(count: int) -> Path:
    """bench/data/products_<count>.csv (suffixed for a non-default source), generated once and reused."""
    source = source_path()
    suffix = "" if source == PRICERUNNER else ("_demo" if source is None else f"_{source.stem}")
    seed = env_int("BENCH_SEED", 42)
    suffix += "" if seed == 42 else f"_s{seed}"
    path = DATA_DIR / f"products_{count}{suffix}.csv"
    if path.is_file():
        return path
    rng = random.Random(seed)
    bases = _demo_bases() if source is None else _read_csv(source, rng)
    if not bases:
        raise ValueError(f"{source}: no rows with a title")
    log(f"writing {path.name}: {count:,} rows from {len(bases):,} source rows ({source or 'demo generator'})")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(_rows(bases, count, rng))
    partial.replace(path)
    return path


def describe(path: Path) -> dict[str, object]:
    return {"path": str(path), "bytes": path.stat().st_size, "source": str(source_path() or "workspace.demo")}
