"""``/info`` as the registry the pipeline's factories fill in (``registry.py``), over the real factories."""

from webob import Request

from librgw.middleware import auth, bulk, gateway, registry
from librgw.middleware.s3 import middleware as s3


def info(app) -> dict:
    response = Request.blank("/info").get_response(app)
    assert response.status_int == 200
    return response.json


def test_info_lists_each_filter_the_pipeline_was_built_with(conf):
    app = gateway.app_factory({}, cluster=conf)
    for factory in (
        bulk.filter_factory({}),
        auth.filter_factory({}, cluster=conf),
        s3.filter_factory({}, cluster=conf),
    ):
        app = factory(app)
    features = info(app)
    assert {"swift", "object_versioning", "bulk_delete", "tempauth", "s3api"} <= features.keys()
    assert features["s3api"]["max_upload_part_num"] == 10000
    assert features["bulk_delete"] == {"max_deletes_per_request": 10000, "max_failed_deletes": 1000}


def test_a_pipeline_without_the_s3_filter_does_not_list_s3api(conf):
    app = auth.filter_factory({}, cluster=conf)(gateway.app_factory({}, cluster=conf, max_meta_count="10"))
    features = info(app)
    assert "s3api" not in features and "bulk_delete" not in features
    assert features["swift"]["max_meta_count"] == 10


def test_a_filter_of_another_package_registers_itself(conf):
    app = gateway.app_factory({}, cluster=conf)
    registry.register_swift_info("myfeature", max_things=10)
    registry.register_swift_info("myfeature", more=True)
    assert info(app)["myfeature"] == {"max_things": 10, "more": True}
