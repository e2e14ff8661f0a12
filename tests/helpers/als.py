"""A reference for the recommender's explanations: implicit's own `explain` on the same factors."""

from recommender.engine.trainer import Params, make_model


def implicit_best_contributor(model, row, column: int) -> int | None:
    """The column of the user's item contributing most to `column`'s score, by implicit's
    `explain` (Hu et al., section 5), for a FactorModel `model` and the user's one-row matrix."""
    known = {k: v for k, v in model.params.items() if k in Params.__dataclass_fields__}
    reference = make_model(Params(**known))
    reference.user_factors = model.user_factors
    reference.item_factors = model.item_factors
    _, contributions, _ = reference.explain(0, row, column, N=1)
    return int(contributions[0][0]) if contributions else None
