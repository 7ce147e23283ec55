-- The levels of one ladder ($ladder) of the exercise library, easiest first, with their target dose.
SELECT level, exercise, dose_sets, dose_reps, dose_hold_s, each_side
FROM library_levels
WHERE ladder = $ladder
ORDER BY level;
