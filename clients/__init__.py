"""Device SDKs and the fleet simulator.

`from clients import Device`: the Python device SDK (docs/sdk.md). The browser SDK
is the ES module `clients/js/fieldsync.js`, served at `/sdk/fieldsync.js`.
"""

from clients.device import Device, SyncResult
from clients.errors import SyncError

__all__ = ["Device", "SyncError", "SyncResult"]
