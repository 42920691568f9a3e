"""The S3 side of multipart uploads: the CompleteMultipartUpload document it reads."""

import pytest

from librgw.middleware.s3.errors import S3Error
from librgw.middleware.s3.multipart import requested_parts

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def test_complete_document_becomes_the_native_part_list():
    body = (
        f'<CompleteMultipartUpload {NS}><Part><PartNumber>1</PartNumber><ETag>"aa"</ETag></Part>'
        "<Part><ETag>bb</ETag><PartNumber> 2 </PartNumber></Part></CompleteMultipartUpload>"
    ).encode()
    assert requested_parts(body) == [{"part_number": 1, "etag": "aa"}, {"part_number": 2, "etag": "bb"}]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<CompleteMultipartUpload>",
        b"<Delete><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Delete>",
        b"<CompleteMultipartUpload/>",
        b"<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
        b'<!DOCTYPE x [<!ENTITY e "e">]><CompleteMultipartUpload/>',
    ],
)
def test_anything_else_is_malformed_xml(body):
    with pytest.raises(S3Error) as caught:
        requested_parts(body)
    assert caught.value.code == "MalformedXML" and caught.value.status == 400
