"""RLPG prompt proposals: prompt source x context type, mined from the repository index."""

from bowerbird.analysis.proposals.build import Proposal, ProposalOptions, build_proposals
from bowerbird.analysis.proposals.catalog import CATALOG, ProposalKind

__all__ = ["CATALOG", "Proposal", "ProposalKind", "ProposalOptions", "build_proposals"]
