"""The 101 UCF101 action classes (Soomro, Zamir & Shah 2012).

Output index ``i`` of the pretrained models is line ``i + 1`` of UCF101's ``classInd.txt``.
UCF101's split lists spell ``HandStandPushups`` where ``classInd.txt`` has ``HandstandPushups``;
:func:`normalize_class_name` maps both to the ``classInd.txt`` spelling.
"""

from __future__ import annotations

UCF101_CLASSES: tuple[str, ...] = (
    'ApplyEyeMakeup', 'ApplyLipstick', 'Archery', 'BabyCrawling', 'BalanceBeam', 'BandMarching',
    'BaseballPitch', 'Basketball', 'BasketballDunk', 'BenchPress', 'Biking', 'Billiards',
    'BlowDryHair', 'BlowingCandles', 'BodyWeightSquats', 'Bowling', 'BoxingPunchingBag',
    'BoxingSpeedBag', 'BreastStroke', 'BrushingTeeth', 'CleanAndJerk', 'CliffDiving',
    'CricketBowling', 'CricketShot', 'CuttingInKitchen', 'Diving', 'Drumming', 'Fencing',
    'FieldHockeyPenalty', 'FloorGymnastics', 'FrisbeeCatch', 'FrontCrawl', 'GolfSwing', 'Haircut',
    'Hammering', 'HammerThrow', 'HandstandPushups', 'HandstandWalking', 'HeadMassage', 'HighJump',
    'HorseRace', 'HorseRiding', 'HulaHoop', 'IceDancing', 'JavelinThrow', 'JugglingBalls',
    'JumpingJack', 'JumpRope', 'Kayaking', 'Knitting', 'LongJump', 'Lunges', 'MilitaryParade',
    'Mixing', 'MoppingFloor', 'Nunchucks', 'ParallelBars', 'PizzaTossing', 'PlayingCello',
    'PlayingDaf', 'PlayingDhol', 'PlayingFlute', 'PlayingGuitar', 'PlayingPiano', 'PlayingSitar',
    'PlayingTabla', 'PlayingViolin', 'PoleVault', 'PommelHorse', 'PullUps', 'Punch', 'PushUps',
    'Rafting', 'RockClimbingIndoor', 'RopeClimbing', 'Rowing', 'SalsaSpin', 'ShavingBeard',
    'Shotput', 'SkateBoarding', 'Skiing', 'Skijet', 'SkyDiving', 'SoccerJuggling',
    'SoccerPenalty', 'StillRings', 'SumoWrestling', 'Surfing', 'Swing', 'TableTennisShot',
    'TaiChi', 'TennisSwing', 'ThrowDiscus', 'TrampolineJumping', 'Typing', 'UnevenBars',
    'VolleyballSpiking', 'WalkingWithDog', 'WallPushups', 'WritingOnBoard', 'YoYo',
)

_ALIASES = {"HandStandPushups": "HandstandPushups"}


def normalize_class_name(name: str) -> str:
    """Return ``name`` spelled as in ``classInd.txt``.

    Examples
    --------
    >>> normalize_class_name("HandStandPushups")
    'HandstandPushups'
    """
    return _ALIASES.get(name, name)


def class_index(name: str) -> int:
    """Return the 0-based output index of a UCF101 class.

    Examples
    --------
    >>> class_index("ApplyEyeMakeup"), class_index("YoYo")
    (0, 100)
    """
    try:
        return UCF101_CLASSES.index(normalize_class_name(name))
    except ValueError:
        raise ValueError(f"{name!r} is not a UCF101 class name (see UCF101_CLASSES)") from None
