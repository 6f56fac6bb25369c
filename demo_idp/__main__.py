"""`python -m demo_idp [--port 8100] [--directory FILE] [--data-dir DIR]`: prepare the
provider's database, key and directory, then serve it on 127.0.0.1.

The issuer is http://127.0.0.1:PORT/o, its discovery document under
/o/.well-known/openid-configuration.
"""

import argparse
import os
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _prepare(data_dir: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    data_dir.mkdir(parents=True, exist_ok=True)
    secret = data_dir / "secret-key"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(50), encoding="utf-8")
    key = data_dir / "rsa-key.pem"
    if not key.exists():
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key.write_bytes(pem)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo_idp")
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_IDP_PORT", 8100)))
    parser.add_argument("--directory", default=str(HERE / "directory.json"))
    parser.add_argument("--data-dir", default=str(HERE.parent / "var" / "demo-idp"))
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    _prepare(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo_idp.settings"
    os.environ["DEMO_IDP_DATA_DIR"] = str(data_dir)
    os.environ["DEMO_IDP_DIRECTORY"] = str(Path(args.directory).resolve())
    os.environ["DEMO_IDP_ISSUER"] = f"http://127.0.0.1:{args.port}/o"

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from demo_idp import directory

    directory.load()
    print(f"demo identity provider: issuer http://127.0.0.1:{args.port}/o", flush=True)
    call_command("runserver", f"127.0.0.1:{args.port}", use_reloader=False, skip_checks=True)


if __name__ == "__main__":
    sys.exit(main())
