"""The MCA wire dialect: the body model, the spec's constants, the state table, the API's
paths and exchange types, conformance, and the collector that judges traffic.
"""
