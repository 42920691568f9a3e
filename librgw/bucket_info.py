"""A bucket instance record (RGW's ``RGWBucketInfo``), apart from the store that keeps it
(``buckets.py``), so the bucket index and the object stores can name it without importing
the bucket store, which makes the index."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from .tenants import split_bucket_entry
from .users import Quota

DEFAULT_SHARDS = 11  # as RGW's rgw_override_bucket_index_max_shards default for new buckets
VERSIONING_OFF = "off"


@dataclass
class BucketInfo:
    """A bucket instance record. ``name`` is the bucket's entry name, which the stores know it
    by: ``<tenant>/<bucket>`` for a tenant's bucket, the plain name for one without
    (``tenants.py``)."""

    name: str
    marker: str
    owner: str
    creation_time: float
    num_shards: int = DEFAULT_SHARDS
    versioning: str = VERSIONING_OFF  # or "enabled", "suspended" (never off again once set)
    quota: Quota = field(default_factory=Quota)
    attrs: dict[str, str] = field(default_factory=dict)  # user metadata, ACL, CORS, tags, as text
    placement_rule: str = "default-placement"
    index_gen: int = 0  # the index layout generation: 0 until the first reshard

    @property
    def versioned(self) -> bool:
        """Does the bucket keep versions (versioning enabled, or suspended after it was)?"""
        return self.versioning != VERSIONING_OFF

    @property
    def tenant(self) -> str:
        return split_bucket_entry(self.name)[0]

    @property
    def local_name(self) -> str:
        """The bucket's name within its tenant: what S3 and Swift call it there."""
        return split_bucket_entry(self.name)[1]

    @property
    def bucket_id(self) -> str:
        return self.marker

    def index_object(self, shard: int) -> str:
        if self.index_gen:
            return f".dir.{self.marker}.{self.index_gen}.{shard}"
        return f".dir.{self.marker}.{shard}"

    def index_objects(self) -> list[str]:
        return [self.index_object(shard) for shard in range(self.num_shards)]

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> BucketInfo:
        doc = json.loads(raw)
        doc["quota"] = Quota(**doc["quota"])
        return cls(**doc)

    def to_json(self) -> dict:
        return {**asdict(self), "name": self.local_name, "tenant": self.tenant, "id": self.marker}
