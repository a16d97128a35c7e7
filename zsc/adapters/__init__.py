"""One module per API; the only place slack_sdk, zenpy and pdpyras are imported.
Those imports happen inside the adapters' constructors so `zsc --help` stays fast."""
