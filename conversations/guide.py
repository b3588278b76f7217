"""/help: the commands this person may use, by role; strangers get the usual pointer."""

from __future__ import annotations

from conversations.actions import Action, Reply
from conversations.services import Services
from core.questionnaire import Language
from core.texts import say


async def commands_for(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """List the commands of every role the sender has, in their language."""
    pseudonym = services.pseudonym(user_id)
    youth = await services.store.youth_by_pseudonym(pseudonym)
    therapist = await services.store.therapist_by_pseudonym(pseudonym)
    lang = youth.language if youth else therapist.language if therapist else lang_hint
    sections = [key for key, has in (
        ("help_youth", youth is not None), ("help_therapist", therapist is not None),
        ("help_coordinator", pseudonym in services.coordinators),
        ("help_researcher", pseudonym in services.researchers)) if has]
    if not sections:
        return [Reply(say(lang_hint, "unknown_user"))]
    return [Reply("\n\n".join(say(lang, key) for key in sections))]
