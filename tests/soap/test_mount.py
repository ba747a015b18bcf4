"""PathDispatcher: routing by whole path segments, SCRIPT_NAME / PATH_INFO, 404."""
import pytest

from soap.mount import PathDispatcher

from .support import call_wsgi


def app(name):
    def answer(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{name}|{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()]
    return answer


@pytest.fixture
def dispatcher():
    return PathDispatcher({"/registry": app("reg"), "xca/": app("xca"), "/xca/initiating": app("ig"),
                           "/": app("root")})


@pytest.mark.parametrize("path,expected", [
    ("/registry", "reg|/registry|"),
    ("/registry/", "reg|/registry|/"),
    ("/registry/a/b", "reg|/registry|/a/b"),
    ("/xca", "xca|/xca|"),
    ("/xca/initiating/x", "ig|/xca/initiating|/x"),
    ("/xca/initiatingx", "xca|/xca|/initiatingx"),
    ("/", "root||/"),
])
def test_routes(dispatcher, path, expected):
    result = call_wsgi(dispatcher, b"", None, method="GET", path=path)
    assert result.status == 200 and result.body.decode() == expected


@pytest.mark.parametrize("path", ["/registryx", "/repository", "/reg", "/nothing/registry"])
def test_unmatched_is_404(dispatcher, path):
    assert call_wsgi(dispatcher, b"", None, method="GET", path=path).status == 404


def test_fallback_and_duplicate_mounts():
    dispatcher = PathDispatcher({"/a": app("a")}, fallback=app("fallback"))
    assert call_wsgi(dispatcher, b"", None, method="GET", path="/b").body.startswith(b"fallback")
    with pytest.raises(ValueError):
        PathDispatcher({"/a": app("a"), "/a/": app("b")})
