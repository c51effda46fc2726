# Loads requests exported from cunjin (a JSON array of {"id", "text"}) into Redmine as issues of one
# public project, enables the REST API and prints the administrator's API key on the last line.
# Run through Redmine's `rails runner` (see scripts/bench-redmine.sh).
require 'json'

path = ARGV.fetch(0)
rows = JSON.parse(File.read(path))

Setting.rest_api_enabled = '1'
admin = User.find_by_login('admin')
project = Project.find_by_identifier('bench') || Project.create!(
  name: 'cunjin bench', identifier: 'bench', is_public: true,
  tracker_ids: Tracker.pluck(:id)
)
project.enabled_module_names = %w[issue_tracking]
project.save!

tracker = project.trackers.first
status = IssueStatus.order(:position).first
priority = IssuePriority.default || IssuePriority.first
now = Time.now.utc
next_id = (Issue.maximum(:id) || 0) + 1

rows.each_slice(5_000) do |slice|
  batch = slice.each_with_index.map do |row, i|
    id = next_id + i
    text = row.fetch('text')
    {
      id: id, project_id: project.id, tracker_id: tracker.id, status_id: status.id,
      priority_id: priority.id, author_id: admin.id, subject: text[0, 250], description: text,
      root_id: id, lft: 1, rgt: 2, done_ratio: 0, is_private: false, lock_version: 0,
      created_on: now, updated_on: now, start_date: now.to_date
    }
  end
  Issue.insert_all(batch)
  next_id += slice.size
end

puts "issues: #{Issue.where(project_id: project.id).count}"
puts admin.api_key
