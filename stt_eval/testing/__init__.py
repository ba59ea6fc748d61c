"""Offline stand-ins for remote providers: loopback HTTP servers that follow each provider's
documented contract and inject faults on demand."""
