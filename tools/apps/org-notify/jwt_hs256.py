"""A minimal HS256 JWT (RFC 7519) with the standard library only, for the test secret."""
import base64
import hashlib
import hmac
import json

TEST_SECRET = b'siotape-test-secret'


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def _unb64(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


def encode(claims, secret=TEST_SECRET):
    header = _b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}, separators=(',', ':')).encode())
    body = _b64(json.dumps(claims, separators=(',', ':'), sort_keys=True).encode())
    sig = hmac.new(secret, f'{header}.{body}'.encode(), hashlib.sha256).digest()
    return f'{header}.{body}.{_b64(sig)}'


def decode(token, secret=TEST_SECRET):
    """Return the claims, or raise ValueError."""
    try:
        header, body, sig = token.split('.')
        if json.loads(_unb64(header)).get('alg') != 'HS256':
            raise ValueError('unsupported alg')
        want = hmac.new(secret, f'{header}.{body}'.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, _unb64(sig)):
            raise ValueError('bad signature')
        return json.loads(_unb64(body))
    except (AttributeError, TypeError, ValueError, json.JSONDecodeError) as e:
        raise ValueError(str(e)) from None
