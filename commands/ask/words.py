"""Words that carry no name: a word of a question that is none of these, no intent's cue and no name
in the catalog is what the asker thinks an entity is called ("is shipment fresh?" → no entity shipment)."""

from __future__ import annotations

_WORDS = """
    a about above after again against all am an and any anybody anyone anything are aren as at be
    because been before being below between both but by can cannot could couldn did didn do does doesn
    doing don down during each either else even ever every everything few for from further get gets
    getting go going got had has hasn have haven having he her here hers herself him himself his how i
    if in into is isn it its itself just let like ll me mine more most much must my myself need needs
    neither no nor not now of off ok okay on once one only or other our ours ourselves out over own
    please quick quickly re really right same say she should shouldn so some something still such sure
    than thank thanks that the their theirs them themselves then there these they thing things this
    those through thx to too under until up us very via was wasn we well were weren what whats when
    where whether which while who whom whose why will with won would wouldn yet you your yours yourself
    hey hi hello hiya team folks guys everyone anyone morning afternoon evening night tonight today
    yesterday tomorrow week weeks month months day days hour hours h min mins minute minutes time times
    ago since last past current currently latest recent recently lately usual normal data dataset table
    tables model models entity entities amd bot amd-bot report reports dashboard dashboards look looks
    looking check checking tell know wondering wonder question quick someone channel link help also
    already actually maybe probably again fine good bad great now soon much many lot lots bit kind sort
    our whole overall mean new old big small see seen show shows showing give us please pls plz btw fyi
    asap real realy open rn
"""
STOPWORDS = frozenset(_WORDS.split())
