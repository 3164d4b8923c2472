"""What the bot never does or answers from its facts, however it is asked: changes to data, numbers it
would have to compute, personal data, secrets, the rows themselves, opinions, and tasks that are the slash
commands'. Each pattern is paired with what the reply calls it ("that is a change to data, which I do not
do")."""

from __future__ import annotations

import re

ANALYSIS = "an analysis of the data itself"
# What a request asks the bot to do, not to tell: its writes and its runs are the slash commands'.
_TASKS = (
    "write|draft|fix|build|create|make|rerun|re-run|restart|trigger|change|update|pause|unpause|resume|"
    "snooze|mute|ack|acknowledge|delete|backfill|calculate|compute|set|mark|disable|skip|silence|drop|"
    "switch off|turn off|order|book|buy|remind|ping|kill|abort|cancel|revert|roll back|restore|correct|"
    "close|resolve|refund|switch|push|rebuild|recreate|reload|adjust|amend|modify|overwrite|kick off|"
    # running code or a job, not a check: "can you run `dbt run -s purchase+`?" (not "run a quick check")
    r"kick-off|run(?= (?:dbt|this|that|these|my|the (?:dag|job|model|pipeline|backfill|sql|query)|"
    r"a (?:full[- ]refresh|backfill)|\S+_\S+))"
)
# Who is asked to do it, and how a request told opens: "bot pls rerun amd_payment", "just skip the chunks"
_WHO = r"(you|u|someone|somebody|anyone|the bot|amd|amd-bot)"
_TOLD = r"^((bot|amd|amd-bot|hey bot)[,:]? )?(please |pls |just )?"
# What the bot never answers from its facts: changes to data, and numbers it would have to compute.
DECLINES = (
    (
        # a statement handed over to be run: "execute `update … set …`", "run this for me: select * from …"
        # (the part that asks ends before the statement it hands over)
        re.compile(
            r"\b(run|execute|exec)\b[^.?!`]{0,20}[:`\s?!]+(select|update|insert|delete|merge|truncate|alter|drop)\s"
            r"(?=.*\b(from|set|into|table|where)\b)|"
            r"\b(run|execute|exec) (this|these|the following)( query| sql| statement)?( for (me|us))?"
            r"( please| pls)?\W*$"
        ),
        "running a query for you",
    ),
    (
        re.compile(
            # asked of what was or is done ("has the export been copied?", "is the export done?") it is a
            # question, not a request
            r"^(?!(has|have|had|was|were|did|is|are)\b).*"
            r"\b(delete|truncate|insert|grant|revoke|alter|remove|wipe|purge|erase)\b|"
            # "export the users to csv" asks for a change; "the bigquery export migration" names one
            r"\bexport (the|all|this|these|those|my|our|it|them|every)\b|"
            r"\bdrop (table|schema|column|database|view|the|\w+\.\w+)\b|"
            r"(?<!\bi )(?<!\bwe )\brun (this|my|the following) (sql|query)\b"  # not "I run my query and …"
        ),
        "a change to data",
    ),
    (
        re.compile(
            # "how many rows does it hold in total?" is its volume
            r"^(?!.*\b(rows|records)\b).*\bin total\b|"
            # ... not a meeting or a report named for it ("before the CFO's revenue call"), nor what the asker
            # wants a column for: "which one should I filter on for daily revenue?"
            r"\b((?<!for )(?<!for daily )(?<!for monthly )(?<!for weekly )(?<!for the )"
            r"revenue(?! (?:call|check|meeting|review|deck|report|dashboard|team|close|sync)s?\b)|"
            r"average|avg|median|sum of|sum the|total amount|top \d+|biggest|largest|"
            r"the most (?:valuable|profitable|loyal|active|engaged)|"
            # "one row per user" says what a row is: a meaning, not a breakdown
            r"(?<!row )(?<!rows )per (country|city|user|customer)|by (country|city|user|customer)|"
            r"conversions?|churn(?:ed|ing)?|forecast|"
            r"predict|profit|margin|earn|earned|spent the most)\b|"
            r"(?<!\bin )\btotal (?!rows?\b|records?\b|count\b|volumes?\b|number\b)\w+|"
            # a count with a filter: "how many users from Berlin", "how many orders with status …"
            # (not where they are kept, nor a volume's time unit: "how many orders in the table right now",
            # "how many captures per day land in payment?")
            r"\bhow many (?!rows|records)\S+ (from|in|with|where|by|per)\b"
            r"(?! (?:the |our )?(?:table|warehouse|model|dataset|data|database|db|snowflake|amd)\b)"
            r"(?! (?:day|hour|week|month)\b)"
        ),
        ANALYSIS,
    ),
    (
        # lateness foretold: "will purchase be late again tomorrow morning?" (not "when will the migration be
        # finished?": its ETA is a fact, nor "is payment late again?")
        re.compile(
            r"\bwill (?:\S+ ){1,3}be (?:late|stale|delayed|behind|on time)\b"
            r"(?=.*\b(?:tomorrow|tonight|next)\b)|"
            # ... or its numbers: "what will orders look like next week?"
            r"\bwhat will (?:\S+ ){1,3}(?:look like|be)\b(?=.*\b(?:tomorrow|tonight|next|coming)\b)"
        ),
        "a prediction",
    ),
    (
        # a person's details, or one record of theirs ("the street of user 123")
        re.compile(
            r"\b(e-?mail|phone number|home address|password)s? (and \w+ )?of\b|"
            r"\b(e-?mail|phone|street|postal|home) (address|number|code)(es|s)? (and \w+ )?(of|for)\b|"
            r"\b(of|for) (the )?(user|customer|client|account|person) (id )?#?\d+\b|"
            # one person's record by its id: "the address of user_id 48213", "street for customer id 9"
            r"\b(user|customer|client|account)(_| )id:? ?#?\d+\b|"
            r"\bfor (the )?id:? ?#?\d+\b|"
            # someone's own: "what is jonas.w's phone number?" (not "the user's email column")
            r"'s (private |personal |work |home )?(e-?mail|phone|mobile|cell)( address| number)?\b"
            r"(?! (column|field))|"
            # or by its number alone: "how much did customer 55120 spend?", "what did user #4410 order?"
            r"\b(user|customer|client|account) #?\d{3,}\b|"
            # what no one reads out of a help channel: card numbers, someone's contact details, secrets
            r"\bcard numbers?\b|\b(e-?mails?|phone numbers?|postcodes?|ibans?) (and|&)\b"
        ),
        "personal data",
    ),
    (
        # a setting's name too: "the value of AMD_SNOWFLAKE_PASSWORD"
        re.compile(
            r"\b(\w+_)?(password|passwd|credentials|creds|private key|api key|secret key|ssh key)s?\b"
            r"(?! (column|field))|\b(access|auth|api|bearer) tokens?\b|"
            # a system's way in: "the airflow admin login", "snowflake login pls"
            r"\b(admin|root|airflow|snowflake|composer|warehouse|prod|production|db|database) logins?\b"
        ),
        "sharing a secret",
    ),
    (
        # the rows themselves, or access to them: the warehouse's to give, not the bot's
        re.compile(
            # ... described: "can you paste the 7 negative payment rows here?" (not "the number of rows", nor
            # the rows a test fails on: "show me the failing rows of the payment test" is the test's answer)
            r"\b(paste|dump|send|share|show|give|list)( me| us)? "
            r"(the |all |raw |some |its |their |those |these |\d+ )*"
            r"((?!number|count|amount|total|failing|failed|bad|broken)\w+ ){0,2}(rows|records)\b(?! count)|"
            # ... or picked by a value: "give me the 7 payments with negative amount", "list the port_calls
            # that have no departed_at" (not the bot's own lists: "list the tests with no owner")
            r"\b(paste|dump|send|share|show|give|list)( me| us)? (the |all |\d+ )+"
            r"(?!(?:tests?|dags?|runs?|tables?|models?|entities|sources?|jobs?|checks?|alerts?|incidents?|"
            r"migrations?|owners?|columns?|failures?|errors?|tasks?)\b)\w+ "
            r"(with (a |an )?(negative|null|empty|missing|no|zero)|"
            r"that (have|has) (no|a null|an empty|negative)|where \w+ (is|=|<|>))\b|"
            # a table written out: "can you dump port_calls to a csv for me"
            r"\b(dump|export|download|extract|copy) \S+ (to|into|as) (a |an )?"
            r"(csv|excel|xlsx|file|spreadsheet|sheet)\b|"
            # who may read it, person by person: "list every person who can query amd.payment"
            r"\b(list|name|show)( me| us)? (every|all|each|the) (person|people|users|accounts|roles) "
            r"(who|that) (can|could|may|has|have) (query|read|access|see|select)\b|"
            # a statement to read them ("just show me select * from purchase limit 1000": `*` is markup)
            r"\bselect (\* )?(\w+(, ?\w+)* )?from [\w.]+|"
            # one record by its number: "update currency of purchase 90012 to EUR", "order #4411's items"
            r"\b(order|purchase|payment|transaction|refund)s? (id |no\.? |number )?(#\d{3,}|\d{5,})\b|"
            r"\b(give|grant|get) (me|us|him|her|them) (\w+ )?(access|permissions?|rights?)\b|"
            # asked for oneself: "can I get read access to payment?", "I need select access on purchase"
            r"\b(can|could|may) (i|we) (get|have|be given|request) (\w+ )?(access|permissions?|rights?)\b|"
            r"\b(i|we) (need|want|would like) (\w+ )?(access|permissions?|rights?) (to|on|for)\b|"
            # a list of them handed over: "send me the list of customers in Vienna", "a csv of all orders"
            r"\b(send|give|share|mail|email|pull|export|provide)( me| us)? (a |an |the )?(full |complete )?"
            r"(list|csv|file|extract|dump|spreadsheet|excel|export|copy) (of|with)\b|"
            # people listed: "please list all customers in Zürich with their names"
            r"\blist (all |every |the )*(\w+ )?(customers|users|clients|people|buyers|accounts) "
            r"(from|in|with|who|that|where|whose)\b|"
            # someone else given it: "give my agent Lindiwe read access to payment"
            r"\b(give|grant) (\S+ ){1,5}(read |write |select )?(access|permissions?|rights?|admin) "
            r"(to|on|for|in)\b"
        ),
        "the data itself",
    ),
    (
        # "today vs last week" compares a fact over time; "snowflake vs bigquery" asks for a view
        re.compile(
            # "registered_at vs loaded_at" asks what two columns mean
            r"\b(opinion|joke|(vs\.?|versus)(?! \w+_\w)(?! (?:(?:a|an|the|its|their|our) )?(?:\d+\s?\w* )?"
            r"(last|this|now|yesterday|today|usual|normal|typical|previous|prior|expected|planned|target|sla|same|"
            r"(day|week|weekend|month|quarter|year|period) before|"
            r"q[1-4]|h[12]|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|\d{4})\b)|"
            r"switch (from|to)|a good (engineer|person|idea))\b|"
            # a view asked for: "do you think we should move off dbt?", "is a 12h SLA too loose?"
            r"\b(do you think|what do you think|thoughts\?|is it worth|designed well|"
            r"should we (move|switch|migrate|drop|replace|adopt|rewrite|just|roll back|rollback|revert|"
            r"tighten|loosen|relax|raise|lower|increase|decrease))|"
            r"\b(badly|poorly) (designed|built|written|modelled|modeled)\b|"
            # a legal judgement: "is our payment data GDPR compliant?"
            r"\b(compliant|lawful)\b|"
            r"\btoo (loose|strict|tight|lax)\b|"
            # a go-ahead asked for: "is it ok to merge my PR?", "safe to deploy the purchase change?"
            r"\b(ok|okay|safe|fine|alright) to (merge|deploy|ship|release)\b|"
            # a choice made for someone: "which variant is better, A or B?", "tell me which one to pick"
            r"\b(which|what) (\w+ ){0,2}(is|would be|looks) better\b|"
            r"\bwhich one (to|should i|should we) (pick|choose)\b|"
            # a judgement of someone's work: "is lena.m doing a bad job with the address data?"
            r"\b(doing|did|does|done) a (bad|good|poor|terrible|great|lousy) job\b|"
            # blame: "whose fault was the purchase outage, jonas or the platform team?"
            r"\b(whose|who'?s|who is|who was) (fault|to blame)\b|\bwho (do we|should we|to) blame\b|"
            # a verdict on how it is built: "is our data stack any good honestly? be brutal"
            r"\b(stack|setup|architecture|platform|design|code|modell?ing)s? (is |are )?any good\b|"
            r"\bbe (brutal|(brutally |totally )?honest)\b"
        ),
        "an opinion",
    ),
    (
        re.compile(
            rf"\b(can|could|would|will) {_WHO} (please |pls |just |quickly )*({_TASKS})\b|"
            # or told to do it: "update the sla of purchase to 6h", "rerun amd_payment", "set X as owner",
            # "drop and rebuild the purchase table"
            rf"{_TOLD}(\w+ and )?({_TASKS}|rename|bump|add) (me |us )?"
            r"(the|a|an|it|this|that|its|their|all|\w+_\w+|\w+'s)\b|"
            # a verb no data-status question opens with: "backfill purchase from 1 nov pls" (not a noun:
            # "backfill for payments is finished?")
            rf"{_TOLD}(rerun|re-run|restart|trigger|pause|unpause|backfill|truncate|kill|abort|"
            r"restore) (?!(?:for|of|on|is|was|has|job|run|status)\b)\w+|"
            rf"{_TOLD}set \S+ (as|to)\b|"
            rf"{_TOLD}add \S+ (to|as)\b|"  # "add CZK to accepted values of purchase currency for me pls"
            # or asked after a greeting: "Dear colleagues, please disable the non_negative test on payment"
            rf"\b(please|pls|kindly) ({_TASKS}) (the|a|an|it|this|that|its|all|\w+_\w+)\b|"
            # someone added to a team or a role: "can you add me to payments-team?"
            rf"\b(can|could|would|will) {_WHO} (please |pls |just )*add \S+ (to|as)\b|"
            # money given back: "pls refund order 55812", "refund the customer"
            rf"{_TOLD}refund (the |this |that |my )?(order|purchase|payment|customer|charge)\b|"
            # a role given: "make me owner of payment", "add lena.m as maintainer"
            rf"{_TOLD}(make|add) \S+ (as )?(an? |the )?(owner|admin|maintainer|steward)s?\b"
        ),
        "a task, not a question",
    ),
)
