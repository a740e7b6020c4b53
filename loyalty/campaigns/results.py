"""What a campaign brought back, from coupon use the sync mirrors (orders' ``coupon_lines``
→ ``order_coupons``).

* issued — members whose coupon is on the store; used — those whose code is on a counted
  order (status counted, not deleted); conversion = used ÷ issued.
* revenue — total − refunds of the orders that used the campaign's codes; discount — the
  coupon lines' discount on them.
* cost per returning customer = discount ÷ customers who used their coupon.
* With a hold-out group: the share of coupon receivers with a counted order after they
  joined the campaign, against the same share of the hold-out members (who got nothing);
  the difference is what the coupons changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Engine, and_, select

from connector import money_json, order_coupons, orders
from loyalty.analytics import DEFAULT_STATUSES
from loyalty.analytics.formatting import points_difference_json, rate_json
from loyalty.analytics.formulas import exact, ratio
from loyalty.campaigns._schema import campaign_members
from loyalty.campaigns.issue import Campaign
from loyalty.identity import order_identities


@dataclass(frozen=True)
class CampaignResults:
    campaign: str
    issued: int
    used: int
    conversion: Decimal | None
    revenue: Decimal
    discount: Decimal
    cost_per_returning_customer: Fraction | None
    receivers_returned: int
    receivers_return_rate: Decimal | None
    holdout: int
    holdout_returned: int
    holdout_return_rate: Decimal | None

    @property
    def lift(self) -> Decimal | None:
        if self.receivers_return_rate is None or self.holdout_return_rate is None:
            return None
        return self.receivers_return_rate - self.holdout_return_rate

    def as_dict(self, decimals: int) -> dict[str, Any]:
        """JSON as the analytics write it: money a decimal string with the currency's
        decimals, rates numbers (fractions, 6 decimals), the lift — a difference of two rates
        — in percentage points (``lift_pp``)."""
        lift = self.lift
        return {
            "campaign": self.campaign,
            "issued": self.issued,
            "used": self.used,
            "conversion": rate_json(self.conversion),
            "revenue": money_json(self.revenue, decimals),
            "discount": money_json(self.discount, decimals),
            "cost_per_returning_customer": money_json(self.cost_per_returning_customer, decimals),
            "receivers_returned": self.receivers_returned,
            "receivers_return_rate": rate_json(self.receivers_return_rate),
            "holdout": self.holdout,
            "holdout_returned": self.holdout_returned,
            "holdout_return_rate": rate_json(self.holdout_return_rate),
            "lift_pp": None if lift is None else points_difference_json(lift, 0),
        }


def campaign_results(engine: Engine, campaign: Campaign, now: datetime) -> CampaignResults:
    m = campaign_members
    statuses = list(DEFAULT_STATUSES)
    counted = and_(
        orders.c.deleted_at.is_(None),
        orders.c.status.in_(statuses),
        orders.c.created_at < now,
    )
    with engine.connect() as conn:
        people = conn.execute(
            select(m.c.identity, m.c.status, m.c.joined_at).where(
                m.c.campaign_id == campaign.id, m.c.status.in_(["issued", "holdout"])
            )
        ).all()
        uses = conn.execute(
            select(
                m.c.id,
                orders.c.wc_id,
                order_coupons.c.discount,
                orders.c.total,
                orders.c.refunded_total,
            )
            .select_from(
                m.join(
                    order_coupons,
                    and_(
                        order_coupons.c.store_id == campaign.store_id,
                        order_coupons.c.code == m.c.code,
                    ),
                ).join(
                    orders,
                    and_(
                        orders.c.store_id == order_coupons.c.store_id,
                        orders.c.wc_id == order_coupons.c.order_id,
                    ),
                )
            )
            .where(m.c.campaign_id == campaign.id, m.c.status == "issued", counted)
        ).all()
        ids = order_identities(campaign.store_id).subquery("ids")
        later = conn.execute(
            select(ids.c.identity, orders.c.created_at)
            .select_from(orders.join(ids, ids.c.order_id == orders.c.wc_id))
            .join(m, and_(m.c.identity == ids.c.identity, m.c.campaign_id == campaign.id))
            .where(
                orders.c.store_id == campaign.store_id,
                counted,
                orders.c.created_at >= m.c.joined_at,
            )
        ).all()
    returned = {ident for ident, _ in later}
    issued = [p for p in people if p.status == "issued"]
    held = [p for p in people if p.status == "holdout"]
    used_members = {u.id for u in uses}
    revenue_by_order = {u.wc_id: u.total - u.refunded_total for u in uses}
    discount = sum((u.discount for u in uses), Decimal(0))
    receivers_back = sum(1 for p in issued if p.identity in returned)
    held_back = sum(1 for p in held if p.identity in returned)
    return CampaignResults(
        campaign=campaign.name,
        issued=len(issued),
        used=len(used_members),
        conversion=ratio(len(used_members), len(issued)),
        revenue=sum(revenue_by_order.values(), Decimal(0)),
        discount=discount,
        cost_per_returning_customer=exact(discount, len(used_members)),
        receivers_returned=receivers_back,
        receivers_return_rate=ratio(receivers_back, len(issued)),
        holdout=len(held),
        holdout_returned=held_back,
        holdout_return_rate=ratio(held_back, len(held)),
    )


__all__ = ["CampaignResults", "campaign_results"]
